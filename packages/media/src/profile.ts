/**
 * The ONE encode profile shared by every clip, so clips concatenate by stream copy.
 * Follows YouTube's recommended upload settings: H.264 High, progressive, 4:2:0, BT.709,
 * 2 consecutive B-frames, closed GOP of half the frame rate, capped VBR, moov atom first.
 */
export type Resolution = '480p' | '720p' | '1080p';

export function resolutionSize(resolution: Resolution): { width: number; height: number } {
  switch (resolution) {
    case '480p':
      return { width: 854, height: 480 };
    case '720p':
      return { width: 1280, height: 720 };
    case '1080p':
      return { width: 1920, height: 1080 };
  }
}

/** Constant-quality target; the maxrate cap keeps bitrate near YouTube's recommendation. */
export const X264_CRF = 18;

/** YouTube's recommended SDR upload bitrate (Mbps) for this frame size and rate. */
export function youtubeBitrateMbps(height: number, fps: number): number {
  const high = fps > 30;
  if (height >= 2160) return high ? 53 : 35;
  if (height >= 1440) return high ? 24 : 16;
  if (height >= 1080) return high ? 12 : 8;
  if (height >= 720) return high ? 7.5 : 5;
  if (height >= 480) return high ? 4 : 2.5;
  return high ? 1.5 : 1;
}

export function x264Preset(): string {
  const p = process.env.MT_X264_PRESET?.trim();
  return p && /^[a-z]+$/.test(p) ? p : 'veryfast';
}

function mbps(n: number): string {
  return Number.isInteger(n) ? `${n}M` : `${Math.round(n * 1000)}k`;
}

/** The draft preview's x264 preset: about 2.7× less encoder CPU than veryfast (High profile kept by x264-params). */
export const DRAFT_X264_PRESET = 'ultrafast';
/** Frames this tall or smaller are the draft preview's (854×480): only drafts render at that size. */
export const DRAFT_MAX_HEIGHT = 480;

/**
 * x264 output arguments (place after the inputs and filters, before the output path).
 * Video only: clips carry no audio (`-an`); the soundtrack is added once, by joinVideo.
 * `draft` (default: a frame of DRAFT_MAX_HEIGHT lines or fewer) encodes with DRAFT_X264_PRESET; every
 * clip of one video is made at one size, so its clips still share one profile and join by stream copy.
 * `threads`: x264's threads (default: its own choice, ~1.5 per core); one where clips are encoded side
 * by side. The stream's parameters do not change with it.
 */
export function encodeProfile(opts: { width: number; height: number; fps: number; draft?: boolean; threads?: number | undefined }): string[] {
  const { height, fps } = opts;
  const draft = opts.draft ?? height <= DRAFT_MAX_HEIGHT;
  if (!Number.isInteger(fps) || fps <= 0) throw new RangeError(`fps must be a positive integer, got ${fps}`);
  const gop = String(Math.max(1, Math.round(fps / 2)));
  const rate = youtubeBitrateMbps(height, fps);
  // biome-ignore format: ffmpeg arguments grouped by option
  return [
    '-c:v', 'libx264',
    '-preset', draft ? DRAFT_X264_PRESET : x264Preset(),
    '-profile:v', 'high',
    '-pix_fmt', 'yuv420p',
    '-crf', String(X264_CRF),
    '-maxrate', mbps(rate),
    '-bufsize', mbps(rate * 2),
    '-g', gop,
    '-keyint_min', gop,
    '-sc_threshold', '0',
    '-flags', '+cgop',
    '-bf', '2',
    // High profile whatever the preset: the fastest presets turn off 8x8 transforms and CABAC,
    // which silently drops the stream to Main/Baseline.
    '-x264-params', '8x8dct=1:cabac=1',
    '-colorspace', 'bt709',
    '-color_primaries', 'bt709',
    '-color_trc', 'bt709',
    '-color_range', 'tv',
    '-r', String(fps),
    '-an',
    '-movflags', '+faststart',
    ...(opts.threads ? ['-threads', String(opts.threads)] : []),
  ];
}

/**
 * Convert a decoded RGB picture to BT.709 limited-range yuv420p. swscale defaults to BT.601 for
 * RGB->YUV, which would shift colours against the BT.709 tags; do this once, before any looping.
 */
export const TO_BT709_YUV = 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p';

/** Scale a yuv420p picture (already BT.709) to the output size. */
export function toOutputSize(width: number, height: number): string {
  return `scale=${width}:${height}:flags=bicubic,format=yuv420p`;
}
