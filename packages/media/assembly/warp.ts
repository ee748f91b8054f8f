// AssemblyScript (compiled to WebAssembly with SIMD by assembly/build.ts into src/warp-kernel.gen.ts).
// One 8-bit plane resampled by a separable bilinear filter whose taps the caller laid out per frame:
// a vertical pass (two source rows blended into a row buffer, 16 samples at a time), then a
// horizontal pass (8 output samples at a time, their taps gathered from one 16-byte load by swizzle).
// Fixed point: weights 0..256 (1/256 pixel), sums ≤ 255·256 + 128 fit an unsigned 16-bit lane.

/** Bytes per horizontal group in the x table: i32 tmp offset, i32 output x, pad, left taps, right taps, right weights. */
const GROUP: usize = 64;

export function warpPlane(
  src: usize,
  srcStride: i32,
  dst: usize,
  dstStride: i32,
  dstHeight: i32,
  groups: i32,
  xTable: usize,
  yTable: usize,
  row: usize,
  spanStart: i32,
  spanLength: i32,
): void {
  const half = i16x8.splat(128);
  const full = i16x8.splat(256);
  for (let y = 0; y < dstHeight; y++) {
    const yt = yTable + ((<usize>y) << 3);
    const r = load<i32>(yt);
    const fy = load<i32>(yt, 4);
    const top = src + <usize>(r * srcStride + spanStart);
    const bottom = top + <usize>srcStride;
    const wb = i16x8.splat(<i16>fy);
    const wa = i16x8.splat(<i16>(256 - fy));
    for (let i: usize = 0; i < <usize>spanLength; i += 16) {
      const a = v128.load(top + i);
      const b = v128.load(bottom + i);
      const lo = i16x8.shr_u(i16x8.add(i16x8.add(i16x8.mul(i16x8.extend_low_i8x16_u(a), wa), i16x8.mul(i16x8.extend_low_i8x16_u(b), wb)), half), 8);
      const hi = i16x8.shr_u(i16x8.add(i16x8.add(i16x8.mul(i16x8.extend_high_i8x16_u(a), wa), i16x8.mul(i16x8.extend_high_i8x16_u(b), wb)), half), 8);
      v128.store(row + i, i8x16.narrow_i16x8_u(lo, hi));
    }
    const out = dst + <usize>(y * dstStride);
    for (let g = 0; g < groups; g++) {
      const t = xTable + <usize>g * GROUP;
      const v = v128.load(row + <usize>load<i32>(t));
      const left = i16x8.extend_low_i8x16_u(i8x16.swizzle(v, v128.load(t, 16)));
      const right = i16x8.extend_low_i8x16_u(i8x16.swizzle(v, v128.load(t, 32)));
      const w = v128.load(t, 48);
      const o = i16x8.shr_u(i16x8.add(i16x8.add(i16x8.mul(left, i16x8.sub(full, w)), i16x8.mul(right, w)), half), 8);
      v128.store64_lane(out + <usize>load<i32>(t, 4), i8x16.narrow_i16x8_u(o, o), 0);
    }
  }
}

/**
 * Two 8-bit planes mixed sample by sample: dst = (a·w + b·(256 − w)) >> 8, w (0..256, 16-bit) per sample,
 * truncated as ffmpeg's xfade truncates its float mix. `n` is a multiple of 16 (the caller mixes a
 * plane's last few samples itself); dst may be a (mixed in place).
 */
export function mixPlane(a: usize, b: usize, dst: usize, weights: usize, n: i32): void {
  const full = i16x8.splat(256);
  for (let i: usize = 0; i < <usize>n; i += 16) {
    const va = v128.load(a + i);
    const vb = v128.load(b + i);
    const wlo = v128.load(weights + (i << 1));
    const whi = v128.load(weights + (i << 1), 16);
    const lo = i16x8.shr_u(i16x8.add(i16x8.mul(i16x8.extend_low_i8x16_u(va), wlo), i16x8.mul(i16x8.extend_low_i8x16_u(vb), i16x8.sub(full, wlo))), 8);
    const hi = i16x8.shr_u(i16x8.add(i16x8.mul(i16x8.extend_high_i8x16_u(va), whi), i16x8.mul(i16x8.extend_high_i8x16_u(vb), i16x8.sub(full, whi))), 8);
    v128.store(dst + i, i8x16.narrow_i16x8_u(lo, hi));
  }
}
