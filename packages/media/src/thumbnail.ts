/**
 * Photo thumbnails (sharp) for the family's photo grid: EXIF upright, at most THUMBNAIL_MAX_SIDE on
 * the long side (never enlarged), WebP. Metadata is not copied (sharp's default), so a thumbnail
 * carries no GPS position or camera serial even where the original does.
 */
import { rm } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { CANVAS_INPUT_PIXEL_LIMIT, decodableImagePath } from './canvas.js';
import { isAbortError, throwIfAborted, UnsupportedMediaError } from './errors.js';

/**
 * Version of the method below, carried in the thumbnail's storage key: change it with any change to
 * what a thumbnail looks like (size, format, quality), so no thumbnail of an older method is reused.
 */
export const THUMBNAIL_VERSION = 1;
/** Longest side of a thumbnail: sharp on a 2× screen in a ~160 px grid tile. */
export const THUMBNAIL_MAX_SIDE = 320;
export const THUMBNAIL_CONTENT_TYPE = 'image/webp';
/** WebP quality: at 320 px, 80 is indistinguishable from the original on a phone and ~10–20 kB. */
const WEBP_QUALITY = 80;

export interface MakeThumbnailOptions {
  input: string;
  output: string;
  signal?: AbortSignal | undefined;
  /** Largest photo accepted, in pixels (header check before decoding): keeps decompression bombs out. */
  maxPixels?: number;
}

export interface ThumbnailResult {
  path: string;
  width: number;
  height: number;
  contentType: typeof THUMBNAIL_CONTENT_TYPE;
}

const damaged = (cause: unknown) => new UnsupportedMediaError('damaged_photo', 'this photo is damaged or incomplete', 422, { cause });

export async function makeThumbnail(opts: MakeThumbnailOptions): Promise<ThumbnailResult> {
  const { input, output, signal, maxPixels = CANVAS_INPUT_PIXEL_LIMIT } = opts;
  throwIfAborted(signal);
  const decodable = await decodableImagePath(input, { signal });
  try {
    // Header first: refusing a 900 MP bomb costs milliseconds, decoding it tens of seconds.
    const meta = await sharp(decodable.path, { limitInputPixels: false })
      .metadata()
      .catch((e: unknown) => {
        throw damaged(e);
      });
    if (!meta.width || !meta.height) throw damaged(undefined);
    if (meta.width * meta.height > maxPixels)
      throw new UnsupportedMediaError('photo_too_large', `this photo is too large: ${meta.width}×${meta.height} pixels`, 422);
    throwIfAborted(signal);
    let info: OutputInfo;
    try {
      info = await sharp(decodable.path, { failOn: 'error', limitInputPixels: maxPixels })
        .rotate()
        .resize(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .webp({ quality: WEBP_QUALITY })
        .toFile(output);
    } catch (e) {
      throw isAbortError(e) ? e : damaged(e);
    }
    // sharp cannot be stopped mid-image (tens of milliseconds here); a cancel during it leaves no file.
    if (signal?.aborted) {
      await rm(output, { force: true });
      throwIfAborted(signal);
    }
    return { path: output, width: info.width, height: info.height, contentType: THUMBNAIL_CONTENT_TYPE };
  } finally {
    await decodable.cleanup();
  }
}
