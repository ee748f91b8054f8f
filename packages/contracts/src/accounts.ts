import { z } from 'zod';

// Accounts and their credentials (API.md "Who may do what" → Credentials): passwordless sign-in by
// email, the session it starts, and API keys.

/** An email address as typed: trimmed and lower-cased, so one person has one account. */
const Email = z.string().trim().toLowerCase().pipe(z.email().max(254));

export const SignInRequest = z.object({ email: Email }).meta({ id: 'SignInRequest' });
export type SignInRequest = z.infer<typeof SignInRequest>;

/** The same answer whether or not the account exists: nobody learns who has one. */
export const SignInStarted = z
  .object({ email: z.string(), expires_in_seconds: z.number().int() })
  .meta({ id: 'SignInStarted', description: 'A code and a link are on their way to this address (if it can receive mail).' });
export type SignInStarted = z.infer<typeof SignInStarted>;

export const VerifyRequest = z
  .object({
    email: Email,
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'the code is 6 digits'),
  })
  .meta({ id: 'VerifyRequest' });
export type VerifyRequest = z.infer<typeof VerifyRequest>;

export const Account = z.object({ id: z.string(), email: z.string(), name: z.string() }).meta({ id: 'Account' });
export type Account = z.infer<typeof Account>;

export const AccountResponse = z.object({ account: Account }).meta({ id: 'AccountResponse' });
export type AccountResponse = z.infer<typeof AccountResponse>;

/** An API key as listed: never the key itself, only its first characters to tell keys apart. */
export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    start: z.string().nullable().meta({ description: 'The first characters of the key (with its prefix), to recognise it' }),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKey>;

export const ApiKeyList = z.object({ items: z.array(ApiKey) }).meta({ id: 'ApiKeyList' });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

export const CreateApiKeyRequest = z.object({ name: z.string().trim().min(1).max(100).optional() }).meta({ id: 'CreateApiKeyRequest' });
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

/** The new key: `key` is shown here once and stored only as a hash. */
export const CreatedApiKey = ApiKey.extend({ key: z.string().meta({ description: 'The key itself; shown only in this answer' }) }).meta({
  id: 'CreatedApiKey',
});
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;
