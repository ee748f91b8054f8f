// A real SMTP server (smtp-server) the browser tests start and point the gateway at (SMTP_URL), so the
// page is signed in the way a family is: the mail arrives, the code is read from it and typed.
import { SMTPServer } from 'smtp-server';
import { freePort } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

export interface SignInMail {
  to: string;
  code: string;
  /** The one-click link, `<origin>/#/verify?email=…&code=…`. */
  link: string;
}

/** Quoted-printable soft breaks and escapes undone, so the text reads as sent. */
const decodeQp = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

export class Mailbox {
  private server?: SMTPServer;
  private readonly mails: Array<{ to: string[]; raw: string }> = [];
  url = '';

  async start(): Promise<string> {
    const port = await freePort();
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, done) => {
        let raw = '';
        stream.on('data', (d: Buffer) => (raw += d.toString()));
        stream.on('end', () => {
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `smtp://127.0.0.1:${port}`;
    return this.url;
  }

  /** How many mails `email` has had so far: pass it to `next` before asking for a code. */
  count(email: string): number {
    return this.mails.filter((m) => m.to.includes(email)).length;
  }

  /** The sign-in mail to `email` after the first `seen` of them, once it arrives: its code and link. */
  async next(email: string, seen: number): Promise<SignInMail> {
    const mail = await waitFor(() => this.mails.filter((m) => m.to.includes(email))[seen], { timeoutMs: 15_000, what: `a sign-in mail to ${email}` });
    const text = decodeQp(mail.raw);
    const code = /sign-in code (?:is |: ?)(\d{6})/.exec(text)?.[1];
    const link = /(https?:\/\/[^\s"<]+\/#\/verify\?[^\s"<]+)/.exec(text)?.[1];
    if (!code || !link) throw new Error(`the sign-in mail to ${email} has no code or no link:\n${text}`);
    return { to: email, code, link: link.replace(/&amp;/g, '&') };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
