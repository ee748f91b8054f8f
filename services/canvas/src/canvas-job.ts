import os from 'node:os';
import { asJobFailure, canvasKey, JobFailure, type JobHandler, storeCanvas } from '@mt/platform';
import pMap from 'p-map';

/** Photos made into canvases at once: PNG decoding and encoding run on one thread per image. */
const CANVAS_CONCURRENCY = Math.max(1, Math.min(4, os.availableParallelism()));

/**
 * canvas_start → canvas_generate (each photo's canvas made, checked and stored by platform's
 * storeCanvas, the same function the clip jobs use) → canvas_validate (every canvas is stored
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
  let done = 0;
  const canvases = await inParallel([...requests.entries()], async ([i, req]) => {
    const { key, made } = await storeCanvas(ctx.storage, req, { dir: ctx.dir, signal, what: `Photo ${i + 1}` });
    done++;
    ctx.progress(2 + Math.round((done / photos.length) * 88), `Photo ${done} of ${photos.length}`);
    return { asset_id: req.photo.asset_id, key, made };
  });
  const made = canvases.filter((c) => c.made).length;

  await ctx.stage('canvas_validate', 90, `Checking that ${photos.length} canvases are stored`);
  await inParallel([...requests.entries()], async ([i, req]) => {
    const stored = await ctx.storage.exists(canvasKey(req)).catch((e: unknown) => {
      throw asJobFailure(e, `Photo ${i + 1}`);
    });
    // Only a store that lost an object it acknowledged gets here: retry the job, which makes it again.
    if (!stored) throw new JobFailure('storage_unavailable', `Photo ${i + 1}: its canvas was stored but the file store no longer has it`, true);
  });
  await ctx.stage('canvas_done', 100, `${photos.length} canvases ready (${made} new)`);
  return { canvases: canvases.map(({ asset_id, key }) => ({ asset_id, key })) };
};
