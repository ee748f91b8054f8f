/**
 * Which provider makes a clip, and the guaranteed fallback: generative attempts (each with a new
 * seed, each through the quality gate), then the classic provider when they all fail. The result
 * says which provider made the clip, how many attempts it took and why it fell back.
 */
import type { TransitionStyle } from '@mt/contracts';
import type { GenerativeProvider } from './generative.js';
import { type FailureReason, GenerativeFailure } from './generative-errors.js';
import type { GenerateRequest, TransitionProvider } from './provider.js';
import { attemptSeed } from './workflow.js';

export type ProviderPlan = { use: 'classic'; fallback_reason: FailureReason | null } | { use: 'generative' };

/**
 * `classic` never calls the model server; `auto` uses it when one is configured and healthy, else
 * classic at once; `generative` tries it and falls back. A configured server that is down is a
 * fallback (`unavailable`) for both; no server configured is a fallback only when `generative` was asked. Pure.
 */
export function chooseProvider(style: TransitionStyle, server: 'none' | 'healthy' | 'unhealthy'): ProviderPlan {
  if (style === 'classic') return { use: 'classic', fallback_reason: null };
  if (server === 'none') return { use: 'classic', fallback_reason: style === 'generative' ? 'not_configured' : null };
  if (server === 'unhealthy') return { use: 'classic', fallback_reason: 'unavailable' };
  return { use: 'generative' };
}

export interface ClipOutcome {
  provider: 'classic' | 'generative';
  /** Providers asked to make the clip: the generative attempts, plus one when classic made it. */
  attempts: number;
  fallback_reason: FailureReason | null;
  detail: string;
  /** One line per failed generative attempt. */
  failures: Array<{ attempt: number; reason: FailureReason; message: string }>;
  /** Whether each photo's move headed for its faces (a generative clip has no such moves: both false). */
  face_guided: { from: boolean; to: boolean };
}

export interface MakeClipOptions {
  style: TransitionStyle;
  generative: GenerativeProvider | null;
  classic: TransitionProvider;
  /** The request; `seed` is the job's, each generative attempt derives its own. */
  request: Omit<GenerateRequest, 'onProgress' | 'onPhase'>;
  /** Enter a phase (the job maps it onto its stage names and percentages). */
  phase(p: 'generate' | 'validate', detail: string): Promise<void>;
  /** Progress within the current phase, 0..1. */
  progress(fraction: number): void;
  /** Checks the classic clip (it has no gate of its own); throws when it is not right. */
  validateClassic(output: string): Promise<void>;
}

export async function makeClip(o: MakeClipOptions): Promise<ClipOutcome> {
  const { request: req, generative } = o;
  // `classic` needs no health check: it never calls the model server.
  const server = generative === null || o.style === 'classic' ? 'none' : (await generative.healthy(req.signal)).ok ? 'healthy' : 'unhealthy';
  const plan = chooseProvider(o.style, server);
  const failures: ClipOutcome['failures'] = [];

  if (plan.use === 'generative' && generative) {
    const max = generative.cfg.attempts;
    for (let k = 1; k <= max; k++) {
      const seed = attemptSeed(req.seed, k);
      await o.phase('generate', `Making the transition (generative${max > 1 ? `, attempt ${k} of ${max}` : ''})`);
      try {
        const { detail } = await generative.generate({
          ...req,
          seed,
          onProgress: o.progress,
          onPhase: () => o.phase('validate', 'Checking the generated clip: length, frames, first and last pictures'),
        });
        return { provider: 'generative', attempts: k, fallback_reason: null, detail, failures, face_guided: { from: false, to: false } };
      } catch (e) {
        if (req.signal.aborted) throw req.signal.reason;
        const f =
          e instanceof GenerativeFailure ? e : new GenerativeFailure('server_error', `unexpected: ${(e as Error)?.message ?? String(e)}`, true, { cause: e });
        failures.push({ attempt: k, reason: f.reason, message: f.message });
        req.log?.warn({ attempt: k, seed, reason: f.reason, err: f.message }, 'generative attempt failed');
        if (f.reason === 'unavailable') generative.markUnhealthy(f.message);
        if (!f.retryable) break;
      }
    }
  }

  // Every generative attempt made left a failure; the last one is why classic makes the clip.
  const reason: FailureReason | null = failures.at(-1)?.reason ?? (plan.use === 'classic' ? plan.fallback_reason : null);
  await o.phase('generate', reason ? `Making the transition (classic, because: ${reason.replace(/_/g, ' ')})` : 'Making the transition (classic)');
  const { detail, faceGuided } = await o.classic.generate({ ...req, onProgress: o.progress });
  await o.phase('validate', 'Checking frames, size and the first and last pictures');
  await o.validateClassic(req.output);
  const face_guided = faceGuided ?? { from: false, to: false };
  return { provider: 'classic', attempts: failures.length + 1, fallback_reason: reason, detail, failures, face_guided };
}
