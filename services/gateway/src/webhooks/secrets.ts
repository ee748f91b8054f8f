import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const FORMAT = 'v1';

/**
 * Webhook signing secrets: made in the Standard Webhooks format (`whsec_` + base64 of 24 random
 * bytes) and kept encrypted with AES-256-GCM. They must be usable to sign, so a hash would not do.
 * The key is derived (HKDF-SHA256) from the gateway's auth secret (MT_AUTH_SECRET, or the development
 * one kept in the data folder), so there is no second secret to manage; each ciphertext is bound to
 * its webhook's id, so one cannot be moved to another row.
 */
export class WebhookSecrets {
  private readonly key: Buffer;

  constructor(authSecret: string) {
    if (authSecret.length < 32) throw new Error('the auth secret must be at least 32 characters');
    this.key = Buffer.from(hkdfSync('sha256', authSecret, 'memorialtube', 'webhook signing secrets v1', 32));
  }

  /** A new signing secret, as shown once to its owner. */
  static generate(): string {
    return `whsec_${randomBytes(24).toString('base64')}`;
  }

  encrypt(secret: string, webhookId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(webhookId));
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [FORMAT, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('.');
  }

  /** Throws when the text was not made by this key for this webhook (another auth secret, or tampered). */
  decrypt(stored: string, webhookId: string): string {
    const [format, iv, tag, data] = stored.split('.');
    if (format !== FORMAT || !iv || !tag || data === undefined) throw new Error('not an encrypted webhook secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(webhookId));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}
