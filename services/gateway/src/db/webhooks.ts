import { randomBytes } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { WebhookEventType } from '@mt/contracts';

/** A webhook as its owner sees it: never the secret. */
export interface WebhookRow {
  id: string;
  account_id: string;
  url: string;
  events: WebhookEventType[];
  created_at: Date;
}

/** A delivery claimed for one attempt, with what is needed to sign and send it. */
export interface ClaimedDelivery {
  id: string;
  webhook_id: string;
  url: string;
  secret_encrypted: string;
  type: WebhookEventType;
  payload: unknown;
  /** This attempt's number (1 for the first). */
  attempts: number;
}

/** What a delivery looks like to a test or an operator. */
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  type: string;
  attempts: number;
  /** Times as the driver gives them for raw queries (ISO-like text). */
  next_attempt_at: string;
  delivered_at: string | null;
  gave_up_at: string | null;
  last_status: number | null;
  last_error: string | null;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(16).toString('hex')}`;

/**
 * Records `type` for every webhook of the account subscribed to it, in the caller's transaction (the
 * one that makes the event true), so a delivery exists exactly when the event does: outbox-style, at
 * least once. For other modules (the contribute upload sends `asset.contributed`); the payload is
 * `{ type, timestamp, data }`.
 */
export async function enqueueWebhookEvent(
  em: EntityManager,
  accountId: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  at: Date = new Date(),
): Promise<number> {
  const hooks = await em.execute<{ id: string }[]>(`select id from webhooks where account_id = ? and ? = any(events)`, [accountId, type]);
  const payload = JSON.stringify({ type, timestamp: at.toISOString(), data });
  for (const h of hooks)
    await em.execute(`insert into webhook_deliveries (id, webhook_id, type, payload) values (?, ?, ?, ?::jsonb)`, [newId('msg'), h.id, type, payload]);
  return hooks.length;
}

/** The `webhooks` and `webhook_deliveries` tables: the only module that writes SQL for them. */
export class WebhookRepo {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** A fresh id, so the secret can be encrypted bound to it before the row is written. */
  newId(): string {
    return newId('wh');
  }

  async create(w: { id: string; accountId: string; url: string; events: WebhookEventType[]; secretEncrypted: string }): Promise<WebhookRow> {
    const rows = await this.em().execute<WebhookRow[]>(
      `insert into webhooks (id, account_id, url, events, secret_encrypted) values (?, ?, ?, ?::text[], ?)
       returning id, account_id, url, events, created_at`,
      [w.id, w.accountId, w.url, `{${w.events.join(',')}}`, w.secretEncrypted],
    );
    return rows[0]!;
  }

  /** The account's webhooks, newest first. */
  async list(accountId: string): Promise<WebhookRow[]> {
    return this.em().execute<WebhookRow[]>(
      `select id, account_id, url, events, created_at from webhooks where account_id = ? order by created_at desc, id desc`,
      [accountId],
    );
  }

  /** Removes one of the account's webhooks (and its pending deliveries): whether there was one. */
  async delete(accountId: string, id: string): Promise<boolean> {
    const rows = await this.em().execute<{ id: string }[]>(`delete from webhooks where id = ? and account_id = ? returning id`, [id, accountId]);
    return rows.length > 0;
  }

  enqueue(em: EntityManager, accountId: string, type: WebhookEventType, data: Record<string, unknown>, at?: Date): Promise<number> {
    return enqueueWebhookEvent(em, accountId, type, data, at);
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs` and counts the attempt, committing at once (no row
   * lock is held while they are sent): a deliverer that dies leaves them to the next after the lease.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.em().execute<ClaimedDelivery[]>(
      `update webhook_deliveries d set lease_until = now() + (? * interval '1 millisecond'), attempts = d.attempts + 1
       from webhooks w
       where w.id = d.webhook_id and d.id in (
         select id from webhook_deliveries
         where delivered_at is null and gave_up_at is null and next_attempt_at <= now() and (lease_until is null or lease_until < now())
         order by next_attempt_at, id limit ? for update skip locked)
       returning d.id, d.webhook_id, w.url, w.secret_encrypted, d.type, d.payload, d.attempts`,
      [leaseMs, limit],
    );
  }

  async markDelivered(id: string, status: number): Promise<void> {
    await this.em().execute(`update webhook_deliveries set delivered_at = now(), lease_until = null, last_status = ?, last_error = null where id = ?`, [
      status,
      id,
    ]);
  }

  /** A failed attempt: tried again after `delayMs`, or never again when `delayMs` is null. */
  async markFailed(id: string, status: number | null, error: string, delayMs: number | null): Promise<void> {
    if (delayMs === null)
      await this.em().execute(`update webhook_deliveries set gave_up_at = now(), lease_until = null, last_status = ?, last_error = ? where id = ?`, [
        status,
        error.slice(0, 500),
        id,
      ]);
    else
      await this.em().execute(
        `update webhook_deliveries set next_attempt_at = now() + (? * interval '1 millisecond'), lease_until = null, last_status = ?, last_error = ?
         where id = ?`,
        [Math.round(delayMs), status, error.slice(0, 500), id],
      );
  }

  /** A webhook's deliveries, oldest first. */
  async deliveries(webhookId: string): Promise<DeliveryRow[]> {
    return this.em().execute<DeliveryRow[]>(
      `select id, webhook_id, type, attempts, next_attempt_at, delivered_at, gave_up_at, last_status, last_error
       from webhook_deliveries where webhook_id = ? order by created_at, id`,
      [webhookId],
    );
  }

  /** Finished deliveries are kept a while for diagnosis, then removed. */
  async prune(olderThanMs: number): Promise<void> {
    await this.em().execute(`delete from webhook_deliveries where coalesce(delivered_at, gave_up_at) < now() - (? * interval '1 millisecond')`, [olderThanMs]);
  }
}
