import path from 'node:path';
import { text } from 'node:stream/consumers';
import { DRAFT_RESOLUTION, type OutputResolution, objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import { CLIP_VERSION, lastClip, validateClip } from '@mt/media';
import { asJobFailure, type CanvasRequest, config, ensureCanvas, type JobContext, type JobHandler, loadCanvasFaces, type Storage } from '@mt/platform';
import { captionGenerativeClip, lastClipCaption, transitionCaptions } from './clip-captions.js';
import { GenerativeProvider } from './generative.js';
import { readGenerativeConfig } from './generative-config.js';
import { type ClipOutcome, makeClip } from './make-clip.js';
import { classicProvider } from './provider.js';

/** The model server of this process, read from the environment once (a bad value stops the start-up, naming it). */
const generativeConfig = readGenerativeConfig();
const generative: GenerativeProvider | null = generativeConfig.url ? new GenerativeProvider({ ...generativeConfig, url: generativeConfig.url }) : null;

/** A logger that follows the job's current stage (ctx.log is replaced on every stage change). */
const stageLog = (ctx: JobContext<'transition' | 'last_clip'>) => ({
  info: (o: object, m: string) => ctx.log.info(o, m),
  warn: (o: object, m: string) => ctx.log.warn(o, m),
});

/**
 * The pictures a classic clip is compared with at run time: its first frame against its first picture
 * (one decoded frame: a wrong canvas or a broken encode shows there). Not its last frame: reaching it
 * decodes the clip's last GOP, a fifth of the clip's CPU besides x264, and where a classic clip ends is
 * fixed by code the tests check on every transition (classic.test.ts, warp.test.ts). A generative clip's
 * gate still compares both ends (gate.ts). A draft (fast settings, never kept as the video) checks only
 * its stream: frames, size, profile.
 */
const endsToCheck = (resolution: OutputResolution, ends: { first?: string | undefined }) => (resolution === DRAFT_RESOLUTION ? {} : ends);

/** The clip's record beside it: which provider made it, so a redelivered command reports the same. */
const metaKey = (clipKey: string) => clipKey.replace(/\.mp4$/, '.json');

/** The clip of a job already stored (a redelivered command): reuse it, never make a second one. */
async function existingClip(ctx: JobContext<'transition' | 'last_clip'>, key: string) {
  return ctx.storage.exists(key);
}

/**
 * The faces stored beside each canvas by the canvas job; a photo whose faces are not stored (detection
 * failed, or a canvas from before faces were kept) moves as without faces, and the note says so.
 */
async function clipFaces(storage: Storage, photos: Array<{ req: CanvasRequest; name: string }>) {
  const stored = await Promise.all(photos.map((p) => loadCanvasFaces(storage, p.req)));
  const unknown = photos.filter((_, i) => !stored[i]).map((p) => p.name);
  const note = unknown.length ? `faces of ${unknown.join(' and ')} unknown: moved as without faces` : undefined;
  return { faces: stored.map((s) => s?.faces), note };
}

async function storedOutcome(storage: Storage, clipKey: string): Promise<Partial<ClipOutcome> & { faces_note?: string }> {
  try {
    return JSON.parse(await text((await storage.getStream(metaKey(clipKey))).body)) as Partial<ClipOutcome>;
  } catch {
    return {};
  }
}

/** transition_start → transition_generate → transition_validate → transition_done (generate/validate again on a retry or fallback). */
export const runTransitionJob: JobHandler<'transition'> = async (ctx) => {
  const p = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[p.resolution];
  const frames = p.seconds * p.fps;
  const clipKey = objectKeys.clip(p.project_id, ctx.cmd.job_id);
  await ctx.stage('transition_start', 0, `${p.seconds} s transition`);
  if (await existingClip(ctx, clipKey)) {
    const before = await storedOutcome(ctx.storage, clipKey);
    await ctx.stage('transition_done', 100, 'Already made');
    return {
      clip_key: clipKey,
      frames,
      provider: before.provider ?? 'classic',
      attempts: before.attempts ?? 1,
      fallback_reason: before.fallback_reason ?? null,
      method_version: CLIP_VERSION,
      ...(before.face_guided ? { face_guided: before.face_guided } : {}),
      ...(before.faces_note ? { faces_note: before.faces_note } : {}),
    };
  }
  const reqA: CanvasRequest = { projectId: p.project_id, photo: p.from, resolution: p.resolution };
  const reqB: CanvasRequest = { projectId: p.project_id, photo: p.to, resolution: p.resolution };
  const a = await ensureCanvas(ctx.storage, reqA, { dir: ctx.dir, signal: ctx.signal, what: 'The first photo' });
  const b = await ensureCanvas(ctx.storage, reqB, { dir: ctx.dir, signal: ctx.signal, what: 'The second photo' });
  const {
    faces: [facesA, facesB],
    note: faces_note,
  } = await clipFaces(ctx.storage, [
    { req: reqA, name: 'the first photo' },
    { req: reqB, name: 'the second photo' },
  ]);
  // Captions (issue 13): drawn once; the clip's ends are checked against the photos with them on.
  const caps = await transitionCaptions(p.captions, { from: a.file, to: b.file }, { dir: ctx.dir, ...size, signal: ctx.signal });
  if (caps.error) ctx.log.warn({ err: caps.error }, 'captions left out: they could not be drawn');
  const output = path.join(ctx.dir, 'clip.mp4');
  // generate: 5..85 %, validate: 86..99 % (a retry or the fallback enters the stages again; progress never goes back).
  let span: [number, number] = [5, 85];
  let outcome: ClipOutcome;
  try {
    outcome = await makeClip({
      style: p.style,
      generative,
      classic: classicProvider,
      request: {
        from: a.file,
        to: b.file,
        output,
        seconds: p.seconds,
        fps: p.fps,
        size,
        seed: p.seed,
        signal: ctx.signal,
        log: stageLog(ctx),
        faces: { from: facesA, to: facesB },
        captions: caps.files,
        encodeThreads: config.encodeThreads,
      },
      phase: async (phase, detail) => {
        span = phase === 'generate' ? [5, 85] : [86, 99];
        await ctx.stage(phase === 'generate' ? 'transition_generate' : 'transition_validate', span[0], detail);
      },
      progress: (f) => ctx.progress(span[0] + f * (span[1] - span[0])),
      validateClassic: async (file) => {
        await validateClip(file, { frames, fps: p.fps, ...size, ...endsToCheck(p.resolution, { first: caps.first }), signal: ctx.signal });
      },
    });
    // A generative clip gets its captions after the gate (one more encode).
    if (outcome.provider === 'generative' && caps.files) await captionGenerativeClip(output, caps.files, { frames, fps: p.fps, ...size, signal: ctx.signal });
  } catch (e) {
    throw asJobFailure(e, 'Making the transition');
  }
  const { provider, attempts, fallback_reason, detail, failures, face_guided } = outcome;
  // The record goes first: once the clip counts as stored, a redelivered command finds both.
  await ctx.storage
    .putBytes(metaKey(clipKey), JSON.stringify({ provider, attempts, fallback_reason, failures, face_guided, faces_note }), 'application/json')
    .catch((e: unknown) => ctx.log.warn({ err: e }, 'clip record not stored'));
  await ctx.storage.putFile(clipKey, output, 'video/mp4', ctx.signal).catch((e: unknown) => {
    throw asJobFailure(e, 'Storing the clip');
  });
  await ctx.stage('transition_done', 100, detail);
  return {
    clip_key: clipKey,
    frames,
    provider,
    attempts,
    fallback_reason,
    detail,
    failures,
    method_version: CLIP_VERSION,
    face_guided,
    ...(faces_note ? { faces_note } : {}),
  };
};

/** last_clip_start → last_clip_generate → last_clip_finalize → last_clip_done. */
export const runLastClipJob: JobHandler<'last_clip'> = async (ctx) => {
  const p = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[p.resolution];
  const frames = p.seconds * p.fps;
  const clipKey = objectKeys.clip(p.project_id, ctx.cmd.job_id);
  const result = { clip_key: clipKey, frames, provider: 'classic' as const, attempts: 1, fallback_reason: null, method_version: CLIP_VERSION };
  await ctx.stage('last_clip_start', 0, 'The closing scene');
  if (await existingClip(ctx, clipKey)) {
    await ctx.stage('last_clip_done', 100, 'Already made');
    return result;
  }
  const req: CanvasRequest = { projectId: p.project_id, photo: p.asset, resolution: p.resolution };
  const canvas = await ensureCanvas(ctx.storage, req, { dir: ctx.dir, signal: ctx.signal, what: 'The last photo' });
  const {
    faces: [faces],
    note: faces_note,
  } = await clipFaces(ctx.storage, [{ req, name: 'the last photo' }]);
  await ctx.stage('last_clip_generate', 5, p.epilogue ? 'Fading out, with the epilogue card' : 'Fading out');
  const output = path.join(ctx.dir, 'last.mp4');
  const cap = await lastClipCaption(p.caption, canvas.file, { dir: ctx.dir, ...size, signal: ctx.signal });
  if (cap.error) ctx.log.warn({ err: cap.error }, 'caption left out: it could not be drawn');
  const e = p.epilogue;
  let faceGuided = false;
  try {
    const plan = await lastClip({
      from: canvas.file,
      output,
      seconds: p.seconds,
      fps: p.fps,
      ...size,
      epilogue: e ? { name: e.name ?? undefined, born: e.born ?? undefined, died: e.died ?? undefined, title: e.title ?? undefined } : undefined,
      seed: p.asset.asset_id,
      signal: ctx.signal,
      onProgress: (f) => ctx.progress(5 + f * 80),
      faces,
      caption: cap.file,
      encodeThreads: config.encodeThreads,
    });
    faceGuided = plan.faceGuided ?? false;
  } catch (err) {
    throw asJobFailure(err, 'Making the closing scene');
  }
  await ctx.stage('last_clip_finalize', 86, 'Checking and storing the closing scene');
  try {
    await validateClip(output, { frames, fps: p.fps, ...size, ...endsToCheck(p.resolution, { first: cap.first }), signal: ctx.signal });
  } catch (err) {
    throw asJobFailure(err, 'The closing scene');
  }
  await ctx.storage.putFile(clipKey, output, 'video/mp4', ctx.signal).catch((err: unknown) => {
    throw asJobFailure(err, 'Storing the clip');
  });
  await ctx.stage('last_clip_done', 100, faceGuided ? 'Closing scene ready, the camera heading for the faces' : 'Closing scene ready');
  return { ...result, face_guided: { from: faceGuided }, ...(faces_note ? { faces_note } : {}) };
};
