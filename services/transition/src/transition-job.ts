import path from 'node:path';
import { objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import { lastClip, validateClip } from '@mt/media';
import { asJobFailure, ensureCanvas, type JobContext, type JobHandler } from '@mt/platform';
import { classicProvider, type TransitionProvider } from './provider.js';

/**
 * Picks the provider for a style. No model server is wired in yet, so `auto` and `generative` fall
 * back to classic (the seed's rule: a generative failure always falls back), and say so.
 */
export function chooseProvider(style: 'auto' | 'generative' | 'classic'): { provider: TransitionProvider; fallback_reason: string | null } {
  if (style === 'generative') return { provider: classicProvider, fallback_reason: 'no model server configured' };
  return { provider: classicProvider, fallback_reason: null };
}

/** The clip of a job already stored (a redelivered command): reuse it, never make a second one. */
async function existingClip(ctx: JobContext<'transition' | 'last_clip'>, key: string) {
  return (await ctx.storage.head(key)) !== null;
}

/** transition_start → transition_generate → transition_validate → transition_done. */
export const runTransitionJob: JobHandler<'transition'> = async (ctx) => {
  const p = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[p.resolution];
  const frames = p.seconds * p.fps;
  const clipKey = objectKeys.clip(p.project_id, ctx.cmd.job_id);
  const { provider, fallback_reason } = chooseProvider(p.style);
  const result = { clip_key: clipKey, frames, provider: provider.name, attempts: 1, fallback_reason };
  await ctx.stage('transition_start', 0, `${p.seconds} s transition`);
  if (await existingClip(ctx, clipKey)) {
    await ctx.stage('transition_done', 100, 'Already made');
    return result;
  }
  const a = await ensureCanvas(ctx.storage, p.project_id, p.from, p.resolution, ctx.dir, ctx.signal).catch((e: unknown) => { throw asJobFailure(e, 'The first photo'); });
  const b = await ensureCanvas(ctx.storage, p.project_id, p.to, p.resolution, ctx.dir, ctx.signal).catch((e: unknown) => { throw asJobFailure(e, 'The second photo'); });
  await ctx.stage('transition_generate', 5, `Making the transition (${provider.name})`);
  const output = path.join(ctx.dir, 'clip.mp4');
  let detail: string;
  try {
    ({ detail } = await provider.generate({
      from: a.file,
      to: b.file,
      output,
      seconds: p.seconds,
      fps: p.fps,
      size,
      seed: p.seed,
      signal: ctx.signal,
      onProgress: (f) => ctx.progress(5 + f * 80),
    }));
  } catch (e) {
    throw asJobFailure(e, 'Making the transition');
  }
  await ctx.stage('transition_validate', 86, 'Checking frames, size and the first and last pictures');
  try {
    await validateClip(output, { frames, fps: p.fps, ...size, first: a.file, last: b.file, signal: ctx.signal });
  } catch (e) {
    throw asJobFailure(e, 'The transition clip');
  }
  await ctx.storage.putFile(clipKey, output, 'video/mp4', ctx.signal).catch((e: unknown) => { throw asJobFailure(e, 'Storing the clip'); });
  await ctx.stage('transition_done', 100, detail);
  return { ...result, detail };
};

/** last_clip_start → last_clip_generate → last_clip_finalize → last_clip_done. */
export const runLastClipJob: JobHandler<'last_clip'> = async (ctx) => {
  const p = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[p.resolution];
  const frames = p.seconds * p.fps;
  const clipKey = objectKeys.clip(p.project_id, ctx.cmd.job_id);
  const result = { clip_key: clipKey, frames, provider: 'classic' as const, attempts: 1, fallback_reason: null };
  await ctx.stage('last_clip_start', 0, 'The closing scene');
  if (await existingClip(ctx, clipKey)) {
    await ctx.stage('last_clip_done', 100, 'Already made');
    return result;
  }
  const canvas = await ensureCanvas(ctx.storage, p.project_id, p.asset, p.resolution, ctx.dir, ctx.signal).catch((e: unknown) => { throw asJobFailure(e, 'The last photo'); });
  await ctx.stage('last_clip_generate', 5, p.epilogue ? 'Fading out, with the epilogue card' : 'Fading out');
  const output = path.join(ctx.dir, 'last.mp4');
  const e = p.epilogue;
  try {
    await lastClip({
      from: canvas.file,
      output,
      seconds: p.seconds,
      fps: p.fps,
      ...size,
      epilogue: e ? { name: e.name ?? undefined, born: e.born ?? undefined, died: e.died ?? undefined, title: e.title ?? undefined } : undefined,
      seed: p.asset.asset_id,
      signal: ctx.signal,
      onProgress: (f) => ctx.progress(5 + f * 80),
    });
  } catch (err) {
    throw asJobFailure(err, 'Making the closing scene');
  }
  await ctx.stage('last_clip_finalize', 86, 'Checking and storing the closing scene');
  try {
    await validateClip(output, { frames, fps: p.fps, ...size, first: canvas.file, signal: ctx.signal });
  } catch (err) {
    throw asJobFailure(err, 'The closing scene');
  }
  await ctx.storage.putFile(clipKey, output, 'video/mp4', ctx.signal).catch((err: unknown) => { throw asJobFailure(err, 'Storing the clip'); });
  await ctx.stage('last_clip_done', 100, 'Closing scene ready');
  return result;
};
