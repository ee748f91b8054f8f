import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the default workflow template lives (infra/comfyui/, two folders above services/transition). */
export const DEFAULT_WORKFLOW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../infra/comfyui/wan21-flf2v.workflow.json');

export type Interpolation = 'blend' | 'mci' | 'dup';

/** Every setting of the generative provider, normalised once: every field is present. */
export interface GenerativeConfig {
  /** Base URL of the model server (ComfyUI); null = no model server: `auto` is classic, `generative` falls back at once. */
  url: string | null;
  workflowPath: string;
  /** One attempt, from upload to the downloaded clip. */
  timeoutMs: number;
  /** One HTTP request (upload, prompt, history, view, queue). */
  requestTimeoutMs: number;
  /** Prompts this process keeps on the model server at once. */
  concurrency: number;
  /** Generative attempts (each with a new seed) before the classic provider makes the clip. */
  attempts: number;
  /** SSIM the first/last frame must reach against canvas A/B. */
  minSsim: number;
  /** How long a health check (GET /system_stats) result is reused. */
  healthTtlMs: number;
  /** Backstop polling of /history while the websocket is quiet or gone. */
  pollMs: number;
  /** The model's frame count (4n+1) and frame rate. */
  modelFrames: number;
  modelFps: number;
  /** Widest clip asked of the model (multiple of 16); the result is scaled to the project size. */
  maxWidth: number;
  interpolate: Interpolation;
}

type Env = Record<string, string | undefined>;

function num(env: Env, name: string, fallback: number, check: (n: number) => boolean, rule: string): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${name} must be ${rule}, got "${v}"`);
  return n;
}
const positiveInt = (n: number) => Number.isInteger(n) && n > 0;

/** Reads the MT_COMFYUI_* and MT_GENERATIVE_* variables; throws naming the variable when one is off. Pure. */
export function readGenerativeConfig(env: Env = process.env): GenerativeConfig {
  const rawUrl = env.MT_COMFYUI_URL?.trim();
  let url: string | null = null;
  if (rawUrl) {
    let u: URL;
    try {
      u = new URL(rawUrl);
    } catch {
      throw new Error(`MT_COMFYUI_URL must be an http(s) URL, got "${rawUrl}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`MT_COMFYUI_URL must be an http(s) URL, got "${rawUrl}"`);
    url = u.toString().replace(/\/+$/, '');
  }
  const modelFrames = num(env, 'MT_COMFYUI_FRAMES', 81, (n) => positiveInt(n) && n % 4 === 1, 'a whole number 4n+1 (e.g. 81)');
  const maxWidth = num(env, 'MT_COMFYUI_MAX_WIDTH', 1280, (n) => positiveInt(n) && n % 16 === 0 && n >= 64, 'a multiple of 16, at least 64');
  const interpolate = (env.MT_GENERATIVE_INTERPOLATE?.trim() || 'blend') as Interpolation;
  if (!['blend', 'mci', 'dup'].includes(interpolate)) throw new Error(`MT_GENERATIVE_INTERPOLATE must be blend, mci or dup, got "${interpolate}"`);
  return {
    url,
    workflowPath: path.resolve(env.MT_COMFYUI_WORKFLOW?.trim() || DEFAULT_WORKFLOW),
    timeoutMs: num(env, 'MT_COMFYUI_TIMEOUT_MS', 30 * 60_000, positiveInt, 'a positive whole number of milliseconds'),
    requestTimeoutMs: num(env, 'MT_COMFYUI_REQUEST_TIMEOUT_MS', 30_000, positiveInt, 'a positive whole number of milliseconds'),
    concurrency: num(env, 'MT_COMFYUI_CONCURRENCY', 1, positiveInt, 'a positive whole number'),
    attempts: num(env, 'MT_GENERATIVE_ATTEMPTS', 2, (n) => Number.isInteger(n) && n >= 1 && n <= 10, 'a whole number from 1 to 10'),
    minSsim: num(env, 'MT_GENERATIVE_MIN_SSIM', 0.7, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
    healthTtlMs: num(env, 'MT_COMFYUI_HEALTH_TTL_MS', 15_000, (n) => Number.isInteger(n) && n >= 0, 'a whole number of milliseconds'),
    pollMs: num(env, 'MT_COMFYUI_POLL_MS', 2_000, positiveInt, 'a positive whole number of milliseconds'),
    modelFrames,
    modelFps: num(env, 'MT_COMFYUI_FPS', 16, positiveInt, 'a positive whole number'),
    maxWidth,
    interpolate,
  };
}
