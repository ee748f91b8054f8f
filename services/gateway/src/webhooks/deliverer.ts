import type { Logger } from '@mt/platform';
import { Webhook } from 'standardwebhooks';
import type { ClaimedDelivery, WebhookRepo } from '../db/index.js';
import type { WebhookSecrets } from './secrets.js';

export interface DelivererOptions {
  /** How often due deliveries are looked for. */
  pollMs: number;
  /** How long a claimed delivery is ours; longer than an attempt can take, so a live one is never taken twice. */
  leaseMs: number;
  /** How long a receiver may take to answer one attempt. */
  timeoutMs: number;
  /** The first retry's delay; each next one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts before giving up (10 at the defaults: about 17 minutes of retries). */
  maxAttempts: number;
  /** Deliveries sent at once. */
  batch: number;
}

export const DELIVERY_DEFAULTS: DelivererOptions = {
  pollMs: 500,
  leaseMs: 60_000,
  timeoutMs: 15_000,
  baseDelayMs: 1_000,
  maxDelayMs: 60 * 60_000,
  maxAttempts: 10,
  batch: 16,
};

/**
 * The wait before the attempt after `attempt` (1-based): exponential (base, 2×base, 4×base …) up to
 * the cap, with ±25 % jitter so receivers coming back from an outage are not hit all at once.
 */
export function backoffMs(attempt: number, base: number, max: number, random = Math.random): number {
  const exponential = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return exponential * (0.75 + random() * 0.5);
}

/** Where a delivery goes, for logs: the origin only (a URL's path or query may carry a token). */
const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid url';
  }
};

/**
 * Sends webhook deliveries: claims due rows with a lease (a gateway that dies mid-delivery leaves them
 * to the next one after the lease: at least once), signs each attempt per Standard Webhooks
 * (`webhook-id` stays the same across attempts, so receivers can de-duplicate), and ends a delivery
 * on a 2xx answer; anything else is retried with backoff until `maxAttempts`.
 */
export class WebhookDeliverer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly o: DelivererOptions;

  constructor(
    private readonly repo: WebhookRepo,
    private readonly secrets: WebhookSecrets,
    private readonly log: Logger,
    options: Partial<DelivererOptions> = {},
  ) {
    this.o = { ...DELIVERY_DEFAULTS, ...options };
  }

  start(): void {
    this.timer ??= setInterval(() => this.kick(), this.o.pollMs);
    this.kick();
  }

  /** Looks for due deliveries now (one pass at a time). */
  kick(): void {
    if (this.running) return;
    this.running = this.pass()
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'webhook deliveries not claimed; trying again'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Stops looking; attempts under way finish (their rows stay leased if the process ends first). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Claims and sends one batch, and goes on while there are more due. */
  async pass(): Promise<void> {
    for (;;) {
      const claimed = await this.repo.claim(this.o.batch, this.o.leaseMs);
      await Promise.all(claimed.map((d) => this.attempt(d)));
      if (claimed.length < this.o.batch || !this.timer) return;
    }
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const where = { delivery: d.id, webhook: d.webhook_id, type: d.type, attempt: d.attempts, to: originOf(d.url) };
    let status: number | null = null;
    let error: string;
    try {
      const body = JSON.stringify(d.payload);
      const at = new Date();
      const signature = new Webhook(this.secrets.decrypt(d.secret_encrypted, d.webhook_id)).sign(d.id, at, body);
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'MemorialTube-Webhooks/1',
          'webhook-id': d.id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        // A redirect is not followed (it could point anywhere): it counts as a failed attempt.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      status = res.status;
      await res.body?.cancel().catch(() => {});
      error = `answered ${status}`;
    } catch (e) {
      const err = e as Error & { cause?: Error };
      error = err.name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs} ms` : (err.cause?.message ?? err.message);
    }
    if (status !== null && status >= 200 && status < 300) {
      await this.repo.markDelivered(d.id, status);
      this.log.info({ ...where, status }, 'webhook delivered');
      return;
    }
    const giveUp = d.attempts >= this.o.maxAttempts;
    const delay = giveUp ? null : backoffMs(d.attempts, this.o.baseDelayMs, this.o.maxDelayMs);
    await this.repo.markFailed(d.id, status, error, delay);
    if (giveUp) this.log.warn({ ...where, status, err: error }, 'webhook delivery failed for good');
    else this.log.info({ ...where, status, err: error, retry_in_ms: Math.round(delay!) }, 'webhook delivery failed; will retry');
  }
}
