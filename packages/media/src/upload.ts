/**
 * Upload inspection: decide the type from the file's bytes, fully decode photos once (damaged files
 * rejected), reject pixel bombs from the header, probe audio with ffprobe. Reasons are written for
 * a family to read.
 */
import { stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { decodableImagePath } from './canvas.js';
import { isAbortError, throwIfAborted, UnsupportedMediaError } from './errors.js';
import { ffprobe, type ProbeResult } from './ffmpeg.js';
import { readHead, sniff } from './sniff.js';

export interface UploadInfo {
  kind: 'photo' | 'audio';
  contentType: string;
  ext: string;
  width?: number;
  height?: number;
  durationSeconds?: number;
}

/** Smaller than this on a side is an icon or a tracking pixel, not a photo a family could see on screen. */
export const MIN_PHOTO_SIDE = 16;

export const REASONS = {
  unknown: 'not a photo or audio file we can read',
  damaged: 'this photo is damaged or incomplete',
  empty: 'this file is empty',
  audioDamaged: 'this audio file is damaged or has no sound we can play',
  videoOnly: 'this is a video without sound; please upload photos or music',
} as const;

const unsupported = () => new UnsupportedMediaError('unsupported_media_type', REASONS.unknown, 415);
const mp = (px: number) => Math.round((px / 1e6) * 10) / 10;

export async function inspectUpload(path: string, opts: { maxPixels: number; maxAudioSeconds?: number; signal?: AbortSignal }): Promise<UploadInfo> {
  throwIfAborted(opts.signal);
  const st = await stat(path);
  if (st.size === 0) throw new UnsupportedMediaError('empty_file', REASONS.empty, 422);
  const kind = sniff(await readHead(path));
  if (!kind) throw unsupported();
  if (kind.kind === 'photo') return inspectPhoto(path, kind.contentType, kind.ext, opts);
  return inspectAudio(path, kind.contentType, kind.ext, opts);
}

async function inspectPhoto(path: string, contentType: string, ext: string, opts: { maxPixels: number; signal?: AbortSignal }): Promise<UploadInfo> {
  // Header first: size check costs milliseconds even for a 30000×30000 bomb.
  let meta: Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new UnsupportedMediaError('damaged_photo', REASONS.damaged, 422, { cause: err });
  }
  if (!meta.width || !meta.height) throw new UnsupportedMediaError('damaged_photo', REASONS.damaged, 422);
  if (Math.min(meta.width, meta.height) < MIN_PHOTO_SIDE)
    throw new UnsupportedMediaError(
      'photo_too_small',
      `this picture is too small to show: ${meta.width}×${meta.height} pixels; a photo needs at least ${MIN_PHOTO_SIDE} pixels on each side`,
      422,
    );
  const pixels = meta.width * meta.height;
  if (pixels > opts.maxPixels)
    throw new UnsupportedMediaError('photo_too_large', `this photo is too large: ${mp(pixels)} megapixels, the limit is ${mp(opts.maxPixels)}`, 422);
  throwIfAborted(opts.signal);
  // Full decode, once: truncated or corrupt data fails here. stats() reads every pixel without
  // keeping a full-size buffer. HEIC goes through heif-convert (no HEVC decoder in sharp here).
  let decodable: Awaited<ReturnType<typeof decodableImagePath>>;
  try {
    decodable = await decodableImagePath(path, { signal: opts.signal });
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new UnsupportedMediaError('damaged_photo', REASONS.damaged, 422, { cause: err });
  }
  try {
    await sharp(decodable.path, { failOn: 'truncated', limitInputPixels: Math.max(1, opts.maxPixels) }).stats();
  } catch (err) {
    throw new UnsupportedMediaError('damaged_photo', REASONS.damaged, 422, { cause: err });
  } finally {
    await decodable.cleanup();
  }
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    kind: 'photo',
    contentType,
    ext,
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
  };
}

async function inspectAudio(path: string, contentType: string, ext: string, opts: { maxAudioSeconds?: number; signal?: AbortSignal }): Promise<UploadInfo> {
  let probe: ProbeResult;
  try {
    probe = await ffprobe(path, opts.signal);
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new UnsupportedMediaError('damaged_audio', REASONS.audioDamaged, 422, { cause: err });
  }
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  const video = probe.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!audio) {
    if (video) throw new UnsupportedMediaError('video_without_audio', REASONS.videoOnly, 415);
    throw new UnsupportedMediaError('damaged_audio', REASONS.audioDamaged, 422);
  }
  const duration = Number(audio.duration ?? probe.format.duration);
  if (!(duration > 0)) throw new UnsupportedMediaError('damaged_audio', REASONS.audioDamaged, 422);
  if (opts.maxAudioSeconds !== undefined && duration > opts.maxAudioSeconds)
    throw new UnsupportedMediaError(
      'audio_too_long',
      `this music is too long: ${Math.round(duration / 60)} minutes, the limit is ${Math.round(opts.maxAudioSeconds / 60)}`,
      422,
    );
  return { kind: 'audio', contentType, ext, durationSeconds: Math.round(duration * 1000) / 1000 };
}
