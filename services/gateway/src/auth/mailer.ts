import type { Logger } from '@mt/platform';
import nodemailer from 'nodemailer';

/** A sign-in code on its way to a person: the 6 digits and the one-click link that carries them. */
export interface SignInMail {
  email: string;
  code: string;
  link: string;
  minutes: number;
}

export type SendSignInMail = (mail: SignInMail) => Promise<void>;

/**
 * Sends sign-in mail over SMTP (`smtp://…` or `smtps://…`), or, with no SMTP URL (the local
 * default), writes the code and link to the log: the only place a code is ever logged.
 */
export function createMailer(opts: { smtpUrl?: string; from: string; log: Logger }): SendSignInMail {
  const { smtpUrl, from, log } = opts;
  if (!smtpUrl) {
    return async ({ email, code, link }) =>
      log.info({ email, code, link }, `sign-in code for ${email}: ${code} (no SMTP_URL set, so it is logged instead of mailed)`);
  }
  const transport = nodemailer.createTransport(smtpUrl);
  return async (mail) => {
    await transport.sendMail({ from, to: mail.email, subject: `Your MemorialTube sign-in code: ${mail.code}`, text: signInText(mail), html: signInHtml(mail) });
    log.info({ email: mail.email }, 'sign-in mail sent');
  };
}

const signInText = ({ code, link, minutes }: SignInMail) =>
  `Your MemorialTube sign-in code is ${code}\n\nOr open this link to sign in:\n${link}\n\nThe code works once, for ${minutes} minutes. If you did not ask for it, ignore this mail.\n`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const signInHtml = ({ code, link, minutes }: SignInMail) =>
  `<p>Your MemorialTube sign-in code is</p><p style="font-size:28px;letter-spacing:4px"><b>${code}</b></p>` +
  `<p><a href="${escapeHtml(link)}">Sign in to MemorialTube</a></p>` +
  `<p>The code works once, for ${minutes} minutes. If you did not ask for it, ignore this mail.</p>`;
