// `./mt api-key create --email EMAIL [--name NAME]`: an API key for the account of EMAIL (made now if
// it is new), printed alone as the last line. Talks to Postgres (DATABASE_URL) directly, so it works
// before the gateway has started; only the key's hash is stored, so this is the one time it is shown.
import { parseArgs } from 'node:util';
import { config } from '@mt/platform';
import { createApiKeyForEmail } from '../services/gateway/src/auth/api-keys.js';

const USAGE = 'usage: ./mt api-key create --email EMAIL [--name NAME]';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { email: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help || positionals[0] !== 'create' || !values.email) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}
try {
  const made = await createApiKeyForEmail(config.databaseUrl, values.email, values.name);
  console.error(`API key ${made.keyId}${values.name ? ` "${values.name}"` : ''} for ${made.account.email} (account ${made.account.id}). It is shown only now:`);
  console.log(made.key);
  process.exit(0);
} catch (e) {
  const err = e as Error & { issues?: { message: string }[] };
  console.error(`api-key: ${err.issues ? `email: ${err.issues[0]?.message}` : err.message}`);
  process.exit(1);
}
