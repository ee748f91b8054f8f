import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

// A share link's secrets at rest: the key only as its SHA-256 (the key is 256 random bits, so nobody
// can search for it from the hash), a password only as a salted scrypt hash (people choose short ones).

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

/** A new link key: 32 random bytes, base64url (43 characters, safe in a URL fragment and a header). */
export const newLinkKey = (): string => randomBytes(32).toString('base64url');

export const hashLinkKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** `scrypt$N$r$p$salt$hash`, so the cost can be raised later without breaking old links. */
export async function hashLinkPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFC'), salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyLinkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const got = await scryptAsync(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(got, expected);
}
