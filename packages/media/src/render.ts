/** Joining clips, adding music, posters and final validation. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkVideoStream } from './compare.js';
import { isAbortError, MediaValidationError, throwIfAborted } from './errors.js';
import { ffprobe, type ProbeResult, runFfmpeg } from './ffmpeg.js';

/**
 * Music: AAC-LC stereo 48 kHz at YouTube's recommended bitrate. The `fast` coder takes a third less
 * time than the default two-loop search and is transparent at 384 kb/s; so is left/right coding
 * without the mid/side search (a bit-saving tool for low rates), which took a fifth of the encoder's
 * time (72 s of music: 2.9 → 2.3 CPU-s).
 */
export const AUDIO_ARGS = ['-c:a', 'aac', '-aac_coder', 'fast', '-aac_ms', '0', '-profile:a', 'aac_low', '-b:a', '384k', '-ar', '48000', '-ac', '2'];
/** Loudness target for online video (YouTube plays back at about -14 LUFS). */
export const LOUDNORM = 'loudnorm=I=-14:TP=-1.5:LRA=11';
export const MUSIC_FADE_IN_S = 2;
export const MUSIC_FADE_OUT_S = 3;
/** MP4 for upload: moov first; no edit lists (negative CTS offsets keep B-frame timing without one). */
export const MP4_UPLOAD_ARGS = ['-movflags', '+faststart+negative_cts_offsets', '-use_editlist', '0'];

const concatLine = (p: string) => `file '${resolve(p).replace(/'/g, "'\\''")}'`;

/** Concat demuxer list text. Pure. */
export function concatList(clips: readonly string[]): string {
  return `${clips.map(concatLine).join('\n')}\n`;
}

/**
 * The upload file in one pass: the clips joined in order and the soundtrack (makeSoundtrack) laid
 * under them, all by stream copy (the clips share the encode profile), cut to the video's `seconds`,
 * moov first. One ffmpeg run and one write of the file: joining first and muxing the music after
 * wrote the whole video twice at the end of every render, where nothing else runs beside it.
 */
export async function joinVideo(opts: {
  clips: string[];
  soundtrack: string;
  seconds: number;
  output: string;
  signal?: AbortSignal;
  onProgress?: (f: number) => void;
}): Promise<void> {
  if (opts.clips.length === 0) throw new RangeError('joinVideo needs at least one clip');
  throwIfAborted(opts.signal);
  const dir = await mkdtemp(join(tmpdir(), 'mt-concat-'));
  try {
    const list = join(dir, 'list.txt');
    await writeFile(list, concatList(opts.clips));
    // biome-ignore format: ffmpeg arguments grouped by option
    await runFfmpeg(
      [
        '-f', 'concat', '-safe', '0', '-i', list, '-i', opts.soundtrack,
        '-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-t', opts.seconds.toFixed(6),
        ...MP4_UPLOAD_ARGS, opts.output,
      ],
      { signal: opts.signal, durationSeconds: opts.seconds, onProgress: opts.onProgress },
    );
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Audio filter for the music (input 0): loop/trim to the video, loudness-normalise, fade in and out. Pure. */
export function musicFilter(seconds: number): string {
  const d = seconds.toFixed(6);
  const fadeOut = Math.min(MUSIC_FADE_OUT_S, seconds / 3);
  const fadeIn = Math.min(MUSIC_FADE_IN_S, seconds / 3);
  return (
    `[0:a]atrim=0:${d},asetpts=PTS-STARTPTS,${LOUDNORM},aresample=48000,` +
    `aformat=sample_fmts=fltp:channel_layouts=stereo,` +
    `afade=t=in:st=0:d=${fadeIn.toFixed(3)},afade=t=out:st=${(seconds - fadeOut).toFixed(6)}:d=${fadeOut.toFixed(3)}[a]`
  );
}

/**
 * Version of makeSoundtrack's method, carried in the stored soundtrack's key (objectKeys.soundtrack):
 * change it with any change to what makeSoundtrack makes (AUDIO_ARGS, LOUDNORM, the fades), so a
 * re-render never reuses a soundtrack of an older method. v1: AAC-LC 48 kHz stereo 384k, −14 LUFS,
 * 2 s / 3 s fades; v2: without mid/side coding.
 */
export const SOUNDTRACK_VERSION = 2;

/**
 * The soundtrack of a video of `seconds`: the music looped or trimmed, faded, loudness-normalised
 * (single-pass loudnorm), AAC-LC 48 kHz stereo 384k, in an .m4a; without music, silence of the same
 * shape (players, editors and YouTube's processing all see audio). Made apart from the video because
 * ffmpeg's AAC encoder is the slow part of a render: a re-render of the same length reuses it.
 */
export async function makeSoundtrack(opts: {
  music?: string | undefined;
  seconds: number;
  output: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}): Promise<void> {
  throwIfAborted(opts.signal);
  const d = opts.seconds.toFixed(6);
  const input = opts.music
    ? ['-stream_loop', '-1', '-i', opts.music, '-filter_complex', musicFilter(opts.seconds), '-map', '[a]']
    : ['-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo', '-map', '0:a'];
  await runFfmpeg([...input, ...AUDIO_ARGS, '-t', d, '-vn', opts.output], { signal: opts.signal, durationSeconds: opts.seconds, onProgress: opts.onProgress });
}

/** A JPEG poster frame at `atSeconds` (full-range, BT.601 as JPEG viewers expect). */
export async function makePoster(opts: { video: string; output: string; atSeconds: number; signal?: AbortSignal }): Promise<void> {
  // biome-ignore format: ffmpeg arguments grouped by option
  await runFfmpeg(
    [
      '-ss', String(Math.max(0, opts.atSeconds)), '-i', opts.video,
      '-vf', 'scale=in_color_matrix=bt709:in_range=tv:out_color_matrix=bt601:out_range=pc,format=yuvj420p',
      '-frames:v', '1', '-q:v', '2', '-update', '1', opts.output,
    ],
    { signal: opts.signal },
  );
}

/** Validate the final video with ffprobe: duration within one frame, H.264 High yuv420p, AAC 48k if present. */
export async function validateVideo(
  path: string,
  o: { expectFrames: number; fps: number; width: number; height: number; requireAudio?: boolean; signal?: AbortSignal },
): Promise<{ durationSeconds: number; hasAudio: boolean }> {
  let p: ProbeResult;
  try {
    p = await ffprobe(path, o.signal);
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new MediaValidationError(`video is not readable: ${(err as Error).message}`, { cause: err, check: 'unreadable' });
  }
  if (!/mp4/.test(p.format.format_name ?? '')) throw new MediaValidationError(`container ${p.format.format_name}, expected mp4`);
  const v = checkVideoStream(
    p.streams.find((s) => s.codec_type === 'video'),
    o,
    'video',
  );
  const expected = o.expectFrames / o.fps;
  const frame = 1 / o.fps;
  const vDur = Number(v.duration ?? p.format.duration);
  if (!(Math.abs(vDur - expected) <= frame + 1e-6))
    throw new MediaValidationError(`video lasts ${vDur.toFixed(3)}s, expected ${expected.toFixed(3)}s (±1 frame)`);
  if (v.nb_frames && Number(v.nb_frames) !== o.expectFrames) throw new MediaValidationError(`video has ${v.nb_frames} frames, expected ${o.expectFrames}`);
  const a = p.streams.find((s) => s.codec_type === 'audio');
  if (!a && o.requireAudio) throw new MediaValidationError('video has no audio track');
  if (a) {
    if (a.codec_name !== 'aac') throw new MediaValidationError(`audio codec ${a.codec_name}, expected aac`);
    if (a.sample_rate !== '48000') throw new MediaValidationError(`audio sample rate ${a.sample_rate}, expected 48000`);
    const aDur = Number(a.duration);
    if (Number.isFinite(aDur) && Math.abs(aDur - expected) > frame + 0.05)
      throw new MediaValidationError(`audio lasts ${aDur.toFixed(3)}s, video ${expected.toFixed(3)}s`);
  }
  const total = Number(p.format.duration);
  if (Number.isFinite(total) && Math.abs(total - expected) > frame + 0.05)
    throw new MediaValidationError(`file lasts ${total.toFixed(3)}s, expected ${expected.toFixed(3)}s`);
  return { durationSeconds: vDur, hasAudio: !!a };
}
