import os from 'node:os';
import { asJobFailure, canvasKey, ensureSoundtrack, JobFailure, type JobHandler, storeCanvas } from '@mt/platform';
import pMap from 'p-map';

/** Photos made into canvases at once: PNG decoding and encoding run on one thread per image. */
const CANVAS_CONCURRENCY = Math.max(1, Math.min(4, os.availableParallelism()));

/**
 * canvas_start → canvas_generate (each photo's canvas made, checked and stored by platform's
 * storeCanvas, the same function the clip jobs use, with the faces on it detected and stored beside
 * it, then reported ready so that the transitions between ready photos start at once; a detection
 * failure is reported per photo and never fails the job) → canvas_validate (every canvas is stored
 * completely, so no clip job has to make one) → canvas_done.
 * Canvases are keyed by photo, resolution and canvas method: one that exists already is kept, so a
 * redelivered command or a second run does only the missing ones.
 */
export const runCanvasJob: JobHandler<'canvas'> = async (ctx) => {
  const { project_id, photos, resolution } = ctx.cmd.payload;
  const requests = photos.map((photo) => ({ projectId: project_id, photo, resolution }));
  // The first failure stops the others at once (they work in the job's folder, which goes with the job).
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const inParallel = async <T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> => {
    try {
      return await pMap(items, fn, { concurrency: CANVAS_CONCURRENCY, signal });
    } catch (e) {
      stop.abort(e);
      throw e;
    }
  };

  await ctx.stage('canvas_start', 0, `${photos.length} photos`);
  await ctx.stage('canvas_generate', 2);
  // The video's soundtrack, beside the canvases (one thread: ffmpeg's AAC encoder), so that the render
  // at the end only joins; if it fails here the render makes it.
  const soundtrack = ctx.cmd.payload.soundtrack
    ? ensureSoundtrack(
        ctx.storage,
        { projectId: project_id, music: ctx.cmd.payload.soundtrack.music, frames: ctx.cmd.payload.soundtrack.frames, fps: ctx.cmd.payload.fps },
        { dir: ctx.dir, signal },
      ).then(
        (s) => s.reused,
        (e: unknown) => {
          if (!signal.aborted) ctx.log.warn({ err: e }, 'soundtrack not made ahead: the render will make it');
          return undefined;
        },
      )
    : Promise.resolve(undefined);
  const ready: string[] = [];
  const canvases = await inParallel([...requests.entries()], async ([i, req]) => {
    const { key, made, faces, faces_error } = await storeCanvas(ctx.storage, req, { dir: ctx.dir, signal, what: `Photo ${i + 1}` });
    // The pipeline starts the transitions between stored canvases while the others are still made.
    const done = ready.push(req.photo.asset_id);
    await ctx.canvasesReady(ready);
    ctx.progress(2 + Math.round((done / photos.length) * 88), `Photo ${done} of ${photos.length}: ${facesText(faces)}`);
    if (faces_error) ctx.log.warn({ asset_id: req.photo.asset_id, err: faces_error }, 'face detection failed: this photo moves without face guidance');
    return { asset_id: req.photo.asset_id, key, made, faces, ...(faces_error ? { faces_error } : {}) };
  }).finally(() => soundtrack); // a failed photo has stopped it (same signal): its folder goes only after it
  const made = canvases.filter((c) => c.made).length;
  const summary = facesSummary(canvases.map((c) => c.faces));

  await ctx.stage('canvas_validate', 90, `Checking that ${photos.length} canvases are stored`);
  await inParallel([...requests.entries()], async ([i, req]) => {
    const stored = await ctx.storage.exists(canvasKey(req)).catch((e: unknown) => {
      throw asJobFailure(e, `Photo ${i + 1}`);
    });
    // Only a store that lost an object it acknowledged gets here: retry the job, which makes it again.
    if (!stored) throw new JobFailure('storage_unavailable', `Photo ${i + 1}: its canvas was stored but the file store no longer has it`, true);
  });
  await ctx.stage('canvas_done', 100, `${photos.length} canvases ready (${made} new); ${summary}`);
  return { canvases: canvases.map(({ made: _, ...c }) => c) };
};

const facesText = (n: number | null) => (n === null ? 'faces not detected' : n === 1 ? '1 face' : `${n} faces`);

/** "faces found on 3 of 5 photos (7 faces); detection failed on 1 (moved as before)". Pure. */
export function facesSummary(counts: ReadonlyArray<number | null | undefined>): string {
  const known = counts.filter((n): n is number => typeof n === 'number');
  const withFaces = known.filter((n) => n > 0);
  const total = withFaces.reduce((a, n) => a + n, 0);
  const failed = counts.length - known.length;
  const found = `faces found on ${withFaces.length} of ${counts.length} photos (${total} ${total === 1 ? 'face' : 'faces'})`;
  return failed ? `${found}; detection failed on ${failed} (moved as before)` : found;
}
