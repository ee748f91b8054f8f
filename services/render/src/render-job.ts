import { stat } from 'node:fs/promises';
import path from 'node:path';
import { objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import { joinVideo, makePoster, validateVideo } from '@mt/media';
import { asJobFailure, ensureSoundtrack, fetchObject, type JobHandler, together } from '@mt/platform';
import pMap from 'p-map';

/**
 * render_start (the clips and the soundtrack fetched side by side) → render_concat (clips and
 * soundtrack joined by stream copy in one pass) → render_finalize (poster, checks, stored) → render_done.
 * Everything here runs after the last clip, with nothing beside it: waits overlap wherever they can.
 */
export const runRenderJob: JobHandler<'render'> = async (ctx) => {
  const p = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[p.resolution];
  const videoKey = objectKeys.video(p.project_id, ctx.cmd.job_id);
  const posterKey = objectKeys.poster(p.project_id, ctx.cmd.job_id);
  await ctx.stage('render_start', 0, `${p.clips.length} clips`);
  let fetched = 0;
  const fetchClip = async (key: string, i: number, signal: AbortSignal) => {
    const file = await fetchObject(ctx.storage, key, ctx.dir, `clip-${String(i).padStart(4, '0')}.mp4`, signal);
    ctx.progress(Math.round((++fetched / p.clips.length) * 20));
    return file;
  };
  const output = path.join(ctx.dir, 'memorial.mp4');
  const poster = path.join(ctx.dir, 'poster.jpg');
  try {
    // The soundtrack depends only on the music, the length and its method: the pipeline's canvas step made
    // it already, and a re-render (one transition made again) reuses it.
    const [clips, { file: soundtrack, reused: soundtrackReused }] = await together(ctx.signal, [
      (signal) => pMap(p.clips, (key, i) => fetchClip(key, i, signal), { concurrency: 4, signal }),
      (signal) => ensureSoundtrack(ctx.storage, { projectId: p.project_id, music: p.music, frames: p.expected_frames, fps: p.fps }, { dir: ctx.dir, signal }),
    ]);
    await ctx.stage('render_concat', 20, p.music ? 'Joining the clips, the music under them' : 'Joining the clips');
    const seconds = p.expected_frames / p.fps;
    await joinVideo({ clips, soundtrack, seconds, output, signal: ctx.signal, onProgress: (f) => ctx.progress(20 + f * 60) });
    await ctx.stage('render_finalize', 80, 'Finishing the video');
    const [v] = await together(ctx.signal, [
      (signal) => validateVideo(output, { expectFrames: p.expected_frames, fps: p.fps, ...size, signal }),
      (signal) => makePoster({ video: output, output: poster, atSeconds: Math.min(1, seconds / 2), signal }),
    ]);
    ctx.progress(90, 'Storing the video');
    await together(ctx.signal, [
      (signal) => ctx.storage.putFile(videoKey, output, 'video/mp4', signal),
      (signal) => ctx.storage.putFile(posterKey, poster, 'image/jpeg', signal),
    ]);
    const size_bytes = (await stat(output)).size;
    await ctx.stage('render_done', 100, 'Your memorial video is ready');
    return {
      video_key: videoKey,
      poster_key: posterKey,
      duration_seconds: Math.round(v.durationSeconds * 1000) / 1000,
      size_bytes,
      frames: p.expected_frames,
      soundtrack_reused: soundtrackReused,
    };
  } catch (e) {
    throw asJobFailure(e, 'Putting the video together');
  }
};
