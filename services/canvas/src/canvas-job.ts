import os from 'node:os';
import path from 'node:path';
import pMap from 'p-map';
import { objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import { makeCanvas, validateCanvas, type CanvasResult } from '@mt/media';
import { asJobFailure, fetchObject, type JobHandler } from '@mt/platform';

/** Photos made into canvases at once: PNG decoding and encoding run on one thread per image. */
const CANVAS_CONCURRENCY = Math.max(1, Math.min(4, os.availableParallelism()));

/**
 * canvas_start → canvas_generate (a step per photo) → canvas_validate → canvas_done.
 * Canvases are keyed by photo and resolution: one that exists already is kept, so a redelivered
 * command or a second run does only the missing ones.
 */
export const runCanvasJob: JobHandler<'canvas'> = async (ctx) => {
  const { project_id, photos, resolution } = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[resolution];
  const canvases = photos.map((photo) => ({ asset_id: photo.asset_id, key: objectKeys.canvas(project_id, photo.asset_id, resolution) }));
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
  const made = (
    await inParallel([...photos.entries()], async ([i, photo]) => {
      const { key } = canvases[i]!;
      if (await ctx.storage.exists(key)) return null;
      const input = await fetchObject(ctx.storage, photo.key, ctx.dir, `upload-${i}`, signal);
      const file = path.join(ctx.dir, `canvas-${i}.png`);
      let placed: Pick<CanvasResult, 'photo' | 'photoTone'>;
      try {
        placed = await makeCanvas({ input, output: file, ...size, signal });
      } catch (e) {
        throw asJobFailure(e, `Photo ${i + 1}`);
      }
      done++;
      ctx.progress(2 + Math.round((done / photos.length) * 78), `Photo ${done} of ${photos.length}`);
      return { key, file, n: i + 1, photo: placed.photo, photoTone: placed.photoTone };
    })
  ).filter((m) => m !== null);

  await ctx.stage('canvas_validate', 80, `Checking ${made.length} canvases`);
  let checked = 0;
  await inParallel(made, async (m) => {
    try {
      await validateCanvas(m.file, { ...size, photo: m.photo, photoTone: m.photoTone });
    } catch (e) {
      throw asJobFailure(e, `Photo ${m.n}`);
    }
    await ctx.storage.putFile(m.key, m.file, 'image/png', signal).catch((e: unknown) => {
      throw asJobFailure(e, `Photo ${m.n}`);
    });
    checked++;
    ctx.progress(80 + Math.round((checked / made.length) * 18));
  });
  await ctx.stage('canvas_done', 100, `${photos.length} canvases ready (${made.length} new)`);
  return { canvases };
};
