import { ApiError } from '../http-errors.js';

/** Keyset cursors for lists ordered by (created_at desc, id desc): opaque to clients. */
export function encodeCursor(t: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([new Date(t).toISOString(), id])).toString('base64url');
}

export function decodeCursor(c?: string): { t: string; id: string } | null {
  if (!c) return null;
  try {
    const [t, id] = JSON.parse(Buffer.from(c, 'base64url').toString()) as [string, string];
    if (typeof t !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(t))) throw new Error('not a cursor');
    return { t, id };
  } catch {
    throw new ApiError('validation_failed', 'cursor: not a cursor this API gave out', { field: 'cursor' });
  }
}

/** One page of `limit` from `limit + 1` rows, with the cursor of its last row when there is more. */
export function page<R extends { created_at: Date | string; id: string }>(rows: R[], limit: number): { items: R[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
}
