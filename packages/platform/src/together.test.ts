import { describe, expect, it } from 'vitest';
import { together } from './together.js';

/** A task that ends after `ms`, or when its signal aborts (recording that it stopped). */
const task =
  (ms: number, log: string[], name: string, fail = false) =>
  (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      const stopped = () => {
        clearTimeout(t);
        log.push(`${name} stopped`);
        reject(signal.reason);
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', stopped);
        log.push(`${name} ended`);
        fail ? reject(new Error(`${name} failed`)) : resolve(name);
      }, ms);
      signal.addEventListener('abort', stopped, { once: true });
    });

describe('together', () => {
  it('gives every result in order', async () => {
    const log: string[] = [];
    expect(await together(new AbortController().signal, [task(20, log, 'a'), task(5, log, 'b')])).toEqual(['a', 'b']);
  });

  it('on a failure stops the others and throws that failure only after they have ended', async () => {
    const log: string[] = [];
    await expect(together(new AbortController().signal, [task(5, log, 'a', true), task(10_000, log, 'b')])).rejects.toThrow('a failed');
    expect(log).toEqual(['a ended', 'b stopped']);
  });

  it("the job's cancel reaches every task", async () => {
    const log: string[] = [];
    const job = new AbortController();
    const run = together(job.signal, [task(10_000, log, 'a'), task(10_000, log, 'b')]);
    job.abort(new Error('canceled'));
    await expect(run).rejects.toThrow('canceled');
    expect(log.sort()).toEqual(['a stopped', 'b stopped']);
  });
});
