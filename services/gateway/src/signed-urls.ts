import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a signed media URL lets its holder fetch, until when. */
export interface SignedMedia {
  /** The object's key in storage. */
  key: string;
  contentType: string;
  /** Seconds since the epoch after which the URL no longer works. */
  expires: number;
}

export const MEDIA_PATH = '/media/';

/**
 * Short-lived URLs for a video, poster or thumbnail that a `<video>` or `<img>` can fetch without any
 * credential (it could not send Mt-Link-Key): the object and an expiry, signed with HMAC-SHA256
 * under a key derived from the gateway's auth secret, so every gateway of a deployment accepts them.
 */
export class MediaSigner {
  private readonly key: Buffer;

  constructor(
    secret: string = randomBytes(32).toString('hex'),
    readonly ttlSeconds = 15 * 60,
    private readonly now = () => Date.now(),
  ) {
    // A key of its own, so a media URL's signature can never be replayed as anything else the secret signs.
    this.key = createHmac('sha256', secret).update('memorialtube signed media urls v1').digest();
  }

  /** The path `/media/<token>` for an object, valid for ttlSeconds from now. */
  url(key: string, contentType: string): string {
    const claims: SignedMedia = { key, contentType, expires: Math.floor(this.now() / 1000) + this.ttlSeconds };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${MEDIA_PATH}${payload}.${this.sign(payload)}`;
  }

  /** The claims of a good, unexpired token; null for anything else. */
  verify(token: string): SignedMedia | null {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined || token.length > 2048) return null;
    // Compared as the text of the URL: decoding first would accept other spellings of the same bytes
    // (the last base64url character carries two unused bits), so one token would have four URLs.
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: SignedMedia;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SignedMedia;
    } catch {
      return null;
    }
    if (typeof claims.key !== 'string' || typeof claims.contentType !== 'string' || typeof claims.expires !== 'number' || claims.expires * 1000 <= this.now())
      return null;
    return claims;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
