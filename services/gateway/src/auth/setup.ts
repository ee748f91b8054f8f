import { config, type Logger } from '@mt/platform';
import { Accounts } from './accounts.js';
import { createBetterAuth, resolveAuthSecret } from './better-auth.js';
import { createMailer } from './mailer.js';

/**
 * The gateway's accounts from its environment: MT_AUTH_SECRET (required in production), MT_PUBLIC_URL
 * (the origin of sign-in links; default http://127.0.0.1:PORT), SMTP_URL (mail; else the log) and
 * MT_MAIL_FROM.
 */
export async function accountsFromEnv(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<{ accounts: Accounts; close: () => Promise<void> }> {
  const secret = await resolveAuthSecret(env, config.dataDir, log);
  const publicUrl = env.MT_PUBLIC_URL || `http://127.0.0.1:${config.port}`;
  const sendSignInMail = createMailer({ smtpUrl: env.SMTP_URL || undefined, from: env.MT_MAIL_FROM || 'MemorialTube <no-reply@localhost>', log });
  const ba = createBetterAuth({ databaseUrl: config.databaseUrl, secret, publicUrl, sendSignInMail, log });
  log.info({ publicUrl, mail: env.SMTP_URL ? 'smtp' : 'log' }, 'accounts ready');
  return { accounts: new Accounts(ba), close: ba.close };
}
