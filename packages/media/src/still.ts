import sharp from 'sharp';
import { MediaValidationError } from './errors.js';

/** Pixel size of an image file (header only). */
export async function probeImageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const m = await sharp(path).metadata();
    if (m.width && m.height) return { width: m.width, height: m.height };
  } catch (err) {
    throw new MediaValidationError(`not a readable image: ${path}`, { cause: err });
  }
  throw new MediaValidationError(`image has no size: ${path}`);
}
