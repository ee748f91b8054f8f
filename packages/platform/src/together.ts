/**
 * Runs tasks side by side under the job's signal. When one fails the others are aborted, and the first
 * failure is thrown only once every task has ended: no ffmpeg or file of a failed job outlives it.
 */
export async function together<T extends readonly unknown[]>(
  signal: AbortSignal,
  tasks: { [K in keyof T]: (signal: AbortSignal) => Promise<T[K]> },
): Promise<T> {
  const stop = new AbortController();
  const each = AbortSignal.any([signal, stop.signal]);
  let first: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    tasks.map((task) =>
      task(each).catch((error: unknown) => {
        first ??= { error };
        stop.abort(error);
        throw error;
      }),
    ),
  );
  if (first) throw first.error;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
