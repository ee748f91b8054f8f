/**
 * What ffprobe says of an MP4 of our own encode, read in this process by mp4box (GPAC's parser): the
 * streams' codec, H.264 profile, pixel format, size, frame rate and sample count, from the `moov` box
 * alone (no decoding). A clip's check used to start an ffprobe process for this, ~0.14 CPU-s each, a
 * twelfth of a render's checks; this takes milliseconds. Colour tags live in the SPS's VUI, which is
 * not parsed here: they are left out (`checkVideoStream` checks them only when present), and the
 * final video is still probed by ffprobe.
 */
import { readFile } from 'node:fs/promises';
import { createFile, MP4BoxBuffer, type Track } from 'mp4box';
import { MediaValidationError, throwIfAborted } from './errors.js';
import type { ProbeResult, ProbeStream } from './ffmpeg.js';

/** H.264 profile_idc → ffprobe's profile name (the ones an encoder of ours could write). */
const H264_PROFILES: Record<number, string> = {
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4 Predictive',
};

/** avcC's extension (High profiles): chroma_format and bit depths → ffprobe's pixel format name. Pure. */
export function avcPixelFormat(profileIdc: number, ext: Uint8Array | undefined): string | undefined {
  // Baseline, Main and Extended are 8-bit 4:2:0 by definition; the High profiles say it in the extension.
  if (profileIdc === 66 || profileIdc === 77 || profileIdc === 88) return 'yuv420p';
  if (!ext || ext.length < 3) return undefined;
  const chroma = ext[0]! & 0b11;
  const lumaBits = 8 + (ext[1]! & 0b111);
  const chromaBits = 8 + (ext[2]! & 0b111);
  if (lumaBits !== chromaBits) return undefined;
  const sub = chroma === 0 ? 'gray' : chroma === 1 ? 'yuv420p' : chroma === 2 ? 'yuv422p' : 'yuv444p';
  return lumaBits === 8 ? sub : `${sub}${lumaBits}le`;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Constant frame rate as ffprobe's "num/den", from the sample durations; "0/0" when they vary. Pure. */
export function frameRate(timescale: number, sampleDeltas: readonly number[]): string {
  const d = sampleDeltas[0];
  if (!d || sampleDeltas.some((x) => x !== d)) return '0/0';
  const g = gcd(timescale, d);
  return `${timescale / g}/${d / g}`;
}

interface AvcEntry {
  type?: string;
  avcC?: { AVCProfileIndication: number; ext?: Uint8Array };
}

/** An MP4's streams and format as a subset of ffprobe's JSON. Throws MediaValidationError when it is not a readable MP4. */
export async function probeMp4(path: string, signal?: AbortSignal): Promise<ProbeResult> {
  throwIfAborted(signal);
  const bytes = await readFile(path, { signal });
  const file = createFile();
  let movie: { videoTracks: Track[]; audioTracks: Track[]; tracks: Track[]; duration: number; timescale: number } | undefined;
  let error: string | undefined;
  file.onReady = (m) => {
    movie = m;
  };
  file.onError = (module, message) => {
    error = `${module}: ${message}`;
  };
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, 0));
  file.flush();
  if (!movie) throw new MediaValidationError(`not a readable MP4 (${error ?? 'no movie box'})`, { check: 'unreadable' });
  const streams = movie.tracks.map((t, index): ProbeStream => {
    if (t.type === 'audio') return { index, codec_type: 'audio', codec_name: t.codec.startsWith('mp4a.40') ? 'aac' : t.codec, nb_frames: String(t.nb_samples) };
    if (t.type !== 'video') return { index, codec_type: t.type };
    const trak = file.getTrackById(t.id);
    const entry = trak?.mdia?.minf?.stbl?.stsd?.entries?.[0] as AvcEntry | undefined;
    const avc = entry?.avcC;
    const deltas = trak?.mdia?.minf?.stbl?.stts?.sample_deltas ?? [];
    return {
      index,
      codec_type: 'video',
      codec_name: avc && (entry?.type === 'avc1' || entry?.type === 'avc3') ? 'h264' : t.codec,
      ...(avc ? { profile: H264_PROFILES[avc.AVCProfileIndication] ?? String(avc.AVCProfileIndication) } : {}),
      ...(avc ? { pix_fmt: avcPixelFormat(avc.AVCProfileIndication, avc.ext) } : {}),
      width: t.video?.width ?? t.track_width,
      height: t.video?.height ?? t.track_height,
      r_frame_rate: frameRate(t.timescale, deltas),
      nb_frames: String(t.nb_samples),
      duration: String(t.samples_duration / t.timescale),
    };
  });
  return { streams, format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: String(movie.duration / movie.timescale), size: String(bytes.length) } };
}
