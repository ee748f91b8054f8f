import { stat } from 'node:fs/promises';
import path from 'node:path';
import { objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import { concatClips, finalizeVideo, makePoster, validateVideo } from '@mt/media';
import { asJobFailure, ensureSoundtrack, fetchObject, type JobHandler } from '@mt/platform';

/** render_start → render_concat → render_finalize → render_done. */
export const runRenderJob: JobHandler<'render'> = async (ctx) => {
  const p = ctx.cmd.payload;
  const size = RESOLUTION_SIZE[p.resolution];
  const videoKey = objectKeys.video(p.project_id, ctx.cmd.job_id);
  const posterKey = objectKeys.poster(p.project_id, ctx.cmd.job_id);
  await ctx.stage('render_start', 0, `${p.clips.length} clips`);
  const clips: string[] = [];
  for (const [i, key] of p.clips.entries()) {
    clips.push(await fetchObject(ctx.storage, key, ctx.dir, `clip-${String(i).padStart(4, '0')}.mp4`, ctx.signal));
    ctx.progress(Math.round(((i + 1) / p.clips.length) * 20));
  }

  await ctx.stage('render_concat', 20, 'Joining the clips');
  const joined = path.join(ctx.dir, 'joined.mp4');
  const output = path.join(ctx.dir, 'memorial.mp4');
  const poster = path.join(ctx.dir, 'poster.jpg');
  try {
    await concatClips({ clips, output: joined, signal: ctx.signal, onProgress: (f) => ctx.progress(20 + f * 20) });
    await ctx.stage('render_finalize', 40, p.music ? 'Laying the music under the video' : 'Finishing the video');
    // The soundtrack depends only on the music, the length and its method: the pipeline's canvas step made
    // it already, and a re-render (one transition made again) reuses it.
    const { file: soundtrack, reused: soundtrackReused } = await ensureSoundtrack(
      ctx.storage,
      { projectId: p.project_id, music: p.music, frames: p.expected_frames, fps: p.fps },
      { dir: ctx.dir, signal: ctx.signal, onProgress: (f) => ctx.progress(40 + f * 40) },
    );
    await finalizeVideo({ video: joined, soundtrack, output, signal: ctx.signal });
    ctx.progress(85);
    await makePoster({ video: output, output: poster, atSeconds: Math.min(1, p.expected_frames / p.fps / 2), signal: ctx.signal });
    const v = await validateVideo(output, { expectFrames: p.expected_frames, fps: p.fps, ...size, signal: ctx.signal });
    ctx.progress(90, 'Storing the video');
    await ctx.storage.putFile(videoKey, output, 'video/mp4', ctx.signal);
    await ctx.storage.putFile(posterKey, poster, 'image/jpeg', ctx.signal);
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
