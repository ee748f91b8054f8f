/** A small, pure magic-number sniffer: decides a file's type from its first bytes, never its name. */
export type SniffedKind = 'photo' | 'audio' | 'video-or-audio';

export interface Sniffed {
  kind: SniffedKind;
  format: string;
  contentType: string;
  ext: string;
}

/** How many leading bytes `sniff` needs. */
export const SNIFF_BYTES = 64;

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const AUDIO_MP4_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ']);

function ascii(b: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function isMp3Frame(b: Uint8Array, i = 0): boolean {
  // 11-bit frame sync, MPEG version != reserved, layer != reserved (layer bits 00 is ADTS/AAC)
  const b1 = b[i + 1] ?? 0;
  return b[i] === 0xff && (b1 & 0xe0) === 0xe0 && (b1 & 0x18) !== 0x08 && (b1 & 0x06) !== 0;
}
function isAdts(b: Uint8Array, i = 0): boolean {
  return b[i] === 0xff && ((b[i + 1] ?? 0) & 0xf6) === 0xf0;
}

/** Identify a file from its first bytes (at least SNIFF_BYTES recommended). Undefined if unknown. */
export function sniff(b: Uint8Array): Sniffed | undefined {
  if (b.length < 4) return undefined;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'photo', format: 'jpeg', contentType: 'image/jpeg', ext: 'jpg' };
  if (b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a)
    return { kind: 'photo', format: 'png', contentType: 'image/png', ext: 'png' };
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return { kind: 'photo', format: 'gif', contentType: 'image/gif', ext: 'gif' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { kind: 'photo', format: 'webp', contentType: 'image/webp', ext: 'webp' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE') return { kind: 'audio', format: 'wav', contentType: 'audio/wav', ext: 'wav' };
  if ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0x00) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0x00 && b[3] === 0x2a))
    return { kind: 'photo', format: 'tiff', contentType: 'image/tiff', ext: 'tiff' };
  if (ascii(b, 4, 4) === 'ftyp') {
    const size = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const brands = [ascii(b, 8, 4)];
    for (let i = 16; i + 4 <= Math.min(size, b.length); i += 4) brands.push(ascii(b, i, 4));
    const avif = { kind: 'photo', format: 'avif', contentType: 'image/avif', ext: 'avif' } as const;
    const heic = { kind: 'photo', format: 'heic', contentType: 'image/heic', ext: 'heic' } as const;
    const hasAvif = brands.some((x) => AVIF_BRANDS.has(x));
    const hasHevc = brands.some((x) => HEIC_BRANDS.has(x) && x !== 'mif1' && x !== 'msf1');
    if (AVIF_BRANDS.has(brands[0]!)) return { ...avif };
    if (HEIC_BRANDS.has(brands[0]!)) return hasAvif && !hasHevc ? { ...avif } : { ...heic };
    if (hasHevc) return { ...heic };
    if (hasAvif) return { ...avif };
    if (brands.some((x) => AUDIO_MP4_BRANDS.has(x))) return { kind: 'audio', format: 'm4a', contentType: 'audio/mp4', ext: 'm4a' };
    // isom / mp42 / 3gp...: could be audio-only or a video; ffprobe decides
    return { kind: 'video-or-audio', format: 'mp4', contentType: 'audio/mp4', ext: 'm4a' };
  }
  if (ascii(b, 0, 4) === 'fLaC') return { kind: 'audio', format: 'flac', contentType: 'audio/flac', ext: 'flac' };
  if (ascii(b, 0, 4) === 'OggS') return { kind: 'video-or-audio', format: 'ogg', contentType: 'audio/ogg', ext: 'ogg' };
  if (ascii(b, 0, 3) === 'ID3') return { kind: 'audio', format: 'mp3', contentType: 'audio/mpeg', ext: 'mp3' };
  if (isAdts(b)) return { kind: 'audio', format: 'aac', contentType: 'audio/aac', ext: 'aac' };
  if (isMp3Frame(b)) return { kind: 'audio', format: 'mp3', contentType: 'audio/mpeg', ext: 'mp3' };
  return undefined;
}

/** Read the first bytes of a file. */
export async function readHead(path: string, n = SNIFF_BYTES): Promise<Uint8Array> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
