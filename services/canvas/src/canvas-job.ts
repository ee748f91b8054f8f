import path from 'node:path';
import { objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import { makeCanvas, validateCanvas, type Rect } from '@mt/media';
import { asJobFailure, fetchObject, type JobHandler } from '@mt/platform';

/**
 * canvas_start → canvas_generate (a step per photo) → canvas_validate → canvas_done.
 * Canvases are keyed by photo and resolution: one that exists already is kept, so a redelivered
 * command or a second run does only the missing ones.
 */
export const runCanvasJob: JobHandler<'canvas'> = async (ctx) => {
  const { project_id, photos, resolution } = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[resolution];
  await ctx.stage('canvas_start', 0, `${photos.length} photos`);
  await ctx.stage('canvas_generate', 2);
  const made: { asset_id: string; key: string; file: string; n: number; photo: Rect }[] = [];
  const canvases: { asset_id: string; key: string }[] = [];
  for (const [i, photo] of photos.entries()) {
    const key = objectKeys.canvas(project_id, photo.asset_id, resolution);
    canvases.push({ asset_id: photo.asset_id, key });
    if (await ctx.storage.exists(key)) continue;
    const input = await fetchObject(ctx.storage, photo.key, ctx.dir, `upload-${i}`, ctx.signal);
    const file = path.join(ctx.dir, `canvas-${i}.png`);
    let rect: Rect;
    try {
      rect = (await makeCanvas({ input, output: file, ...size, signal: ctx.signal })).photo;
    } catch (e) {
      throw asJobFailure(e, `Photo ${i + 1}`);
    }
    made.push({ asset_id: photo.asset_id, key, file, n: i + 1, photo: rect });
    ctx.progress(2 + Math.round(((i + 1) / photos.length) * 78), `Photo ${i + 1} of ${photos.length}`);
  }
  await ctx.stage('canvas_validate', 80, `Checking ${made.length} canvases`);
  for (const [j, m] of made.entries()) {
    try {
      await validateCanvas(m.file, { ...size, photo: m.photo });
    } catch (e) {
      throw asJobFailure(e, `Photo ${m.n}`);
    }
    await ctx.storage.putFile(m.key, m.file, 'image/png', ctx.signal).catch((e: unknown) => {
      throw asJobFailure(e, `Photo ${m.n}`);
    });
    ctx.progress(80 + Math.round(((j + 1) / made.length) * 18));
  }
  await ctx.stage('canvas_done', 100, `${photos.length} canvases ready (${made.length} new)`);
  return { canvases };
};
