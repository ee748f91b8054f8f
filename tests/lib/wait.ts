// Waiting in tests: for what should happen, with a deadline, never for a fixed time.

/**
 * Waits for `check` to return something other than undefined/false (what should happen), polling
 * until the deadline; throws naming `what` if it never does. Never a fixed sleep.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  o: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      lastError = e; // e.g. not reachable yet: keep waiting until the deadline
    }
    if (Date.now() >= deadline) throw new Error(`waited ${o.timeoutMs} ms for ${o.what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}
