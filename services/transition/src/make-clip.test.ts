import { describe, expect, it } from 'vitest';
import type { GenerativeProvider } from './generative.js';
import { GenerativeFailure } from './generative-errors.js';
import { chooseProvider, type MakeClipOptions, makeClip } from './make-clip.js';
import type { GenerateRequest, TransitionProvider } from './provider.js';

describe('chooseProvider', () => {
  it.each([
    ['classic', 'healthy', { use: 'classic', fallback_reason: null }],
    ['classic', 'none', { use: 'classic', fallback_reason: null }],
    ['auto', 'none', { use: 'classic', fallback_reason: null }],
    ['auto', 'unhealthy', { use: 'classic', fallback_reason: 'unavailable' }],
    ['auto', 'healthy', { use: 'generative' }],
    ['generative', 'none', { use: 'classic', fallback_reason: 'not_configured' }],
    ['generative', 'unhealthy', { use: 'classic', fallback_reason: 'unavailable' }],
    ['generative', 'healthy', { use: 'generative' }],
  ] as const)('%s with a server %s → %j', (style, server, plan) => expect(chooseProvider(style, server)).toEqual(plan));
});

/** A strict fake: each attempt takes the next scripted outcome; running out is a test bug. */
function fakeGenerative(script: Array<'ok' | GenerativeFailure>, healthy = true) {
  const seeds: number[] = [];
  const g = {
    cfg: { attempts: 3 },
    healthy: async () => ({ ok: healthy, why: '' }),
    markUnhealthy: () => {},
    generate: async (r: GenerateRequest) => {
      seeds.push(r.seed);
      const next = script.shift();
      if (next === undefined) throw new Error('fake model server: no more scripted attempts');
      await r.onPhase?.('validate');
      if (next === 'ok') return { detail: 'generative ok' };
      throw next;
    },
  };
  return { g: g as unknown as GenerativeProvider, seeds };
}
function fakeClassic() {
  const calls: number[] = [];
  const c: TransitionProvider = {
    name: 'classic',
    generate: async (r) => {
      calls.push(r.seed);
      return { detail: 'classic fade' };
    },
  };
  return { c, calls };
}
function options(over: Partial<MakeClipOptions>): MakeClipOptions & { phases: string[] } {
  const phases: string[] = [];
  return {
    style: 'generative',
    generative: null,
    classic: fakeClassic().c,
    request: { from: 'a', to: 'b', output: 'o', seconds: 6, fps: 30, size: { width: 1280, height: 720 }, seed: 7, signal: new AbortController().signal },
    phase: async (p) => void phases.push(p),
    progress: () => {},
    validateClassic: async () => {},
    phases,
    ...over,
  };
}

describe('makeClip', () => {
  it('returns the first good generative clip', async () => {
    const { g, seeds } = fakeGenerative([new GenerativeFailure('black_frames', 'black'), 'ok']);
    const o = options({ generative: g });
    expect(await makeClip(o)).toMatchObject({ provider: 'generative', attempts: 2, fallback_reason: null, failures: [{ attempt: 1, reason: 'black_frames' }] });
    expect(seeds[0]).toBe(7);
    expect(seeds[1]).not.toBe(7);
    expect(o.phases).toEqual(['generate', 'validate', 'generate', 'validate']);
  });

  it('falls back to classic after the last attempt, with the last reason', async () => {
    const { g } = fakeGenerative([
      new GenerativeFailure('timeout', 't'),
      new GenerativeFailure('server_error', 's'),
      new GenerativeFailure('last_frame_mismatch', 'm'),
    ]);
    const { c, calls } = fakeClassic();
    const o = options({ generative: g, classic: c });
    expect(await makeClip(o)).toMatchObject({ provider: 'classic', attempts: 4, fallback_reason: 'last_frame_mismatch', detail: 'classic fade' });
    expect(calls).toEqual([7]);
    expect(o.phases.slice(-2)).toEqual(['generate', 'validate']);
  });

  it('does not retry a refusal', async () => {
    const { g, seeds } = fakeGenerative([new GenerativeFailure('refused', 'node_errors', false)]);
    expect(await makeClip(options({ generative: g }))).toMatchObject({ provider: 'classic', attempts: 2, fallback_reason: 'refused' });
    expect(seeds).toHaveLength(1);
  });

  it('never calls the model server for classic, nor when it is down', async () => {
    const never = fakeGenerative([]);
    expect(await makeClip(options({ style: 'classic', generative: never.g }))).toMatchObject({ provider: 'classic', attempts: 1, fallback_reason: null });
    const down = fakeGenerative([], false);
    expect(await makeClip(options({ style: 'auto', generative: down.g }))).toMatchObject({ provider: 'classic', attempts: 1, fallback_reason: 'unavailable' });
    expect(await makeClip(options({ style: 'generative', generative: null }))).toMatchObject({
      provider: 'classic',
      attempts: 1,
      fallback_reason: 'not_configured',
    });
    expect(never.seeds.length + down.seeds.length).toBe(0);
  });

  it('stops on cancel instead of falling back', async () => {
    const ac = new AbortController();
    const g = {
      cfg: { attempts: 3 },
      healthy: async () => ({ ok: true, why: '' }),
      markUnhealthy: () => {},
      generate: async () => {
        ac.abort(new Error('canceled'));
        throw new GenerativeFailure('timeout', 'aborted mid-way');
      },
    } as unknown as GenerativeProvider;
    const { c, calls } = fakeClassic();
    const o = options({ generative: g, classic: c });
    await expect(makeClip({ ...o, request: { ...o.request, signal: ac.signal } })).rejects.toThrow('canceled');
    expect(calls).toEqual([]);
  });
});
