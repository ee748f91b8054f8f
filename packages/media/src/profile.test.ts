import { afterEach, describe, expect, it } from 'vitest';
import { encodeProfile, resolutionSize } from './profile.js';

describe('encodeProfile', () => {
  afterEach(() => {
    delete process.env.MT_X264_PRESET;
  });
  it('720p30: YouTube settings, exact arguments', () => {
    // biome-ignore format: ffmpeg arguments grouped as encodeProfile groups them
    expect(encodeProfile({ width: 1280, height: 720, fps: 30 })).toEqual([
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
      '-crf', '18', '-maxrate', '5M', '-bufsize', '10M',
      '-g', '15', '-keyint_min', '15', '-sc_threshold', '0', '-flags', '+cgop', '-bf', '2', '-x264-params', '8x8dct=1:cabac=1',
      '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
      '-r', '30', '-an', '-movflags', '+faststart',
    ]);
  });
  it('1080p25 with a preset from the environment', () => {
    process.env.MT_X264_PRESET = 'medium';
    const args = encodeProfile({ width: 1920, height: 1080, fps: 25 });
    expect(args.slice(2, 4)).toEqual(['-preset', 'medium']);
    expect(args.slice(args.indexOf('-maxrate'), args.indexOf('-maxrate') + 4)).toEqual(['-maxrate', '8M', '-bufsize', '16M']);
    expect(args.slice(args.indexOf('-g'), args.indexOf('-g') + 4)).toEqual(['-g', '13', '-keyint_min', '13']);
  });
  it('480p (the draft preview): the draft preset and the 480p bitrate, High profile kept', () => {
    process.env.MT_X264_PRESET = 'medium';
    const args = encodeProfile({ width: 854, height: 480, fps: 30 });
    expect(args.slice(2, 4)).toEqual(['-preset', 'ultrafast']);
    expect(args.slice(args.indexOf('-maxrate'), args.indexOf('-maxrate') + 4)).toEqual(['-maxrate', '2500k', '-bufsize', '5M']);
    expect(args).toEqual(expect.arrayContaining(['-profile:v', 'high', '8x8dct=1:cabac=1', '+cgop']));
    expect(encodeProfile({ width: 854, height: 480, fps: 30, draft: false }).slice(2, 4)).toEqual(['-preset', 'medium']);
    expect(encodeProfile({ width: 1280, height: 720, fps: 30, draft: true }).slice(2, 4)).toEqual(['-preset', 'ultrafast']);
  });
  it('x264 threads only when asked (one where clips are encoded side by side)', () => {
    expect(encodeProfile({ width: 1280, height: 720, fps: 30, threads: 1 }).slice(-2)).toEqual(['-threads', '1']);
    expect(encodeProfile({ width: 1280, height: 720, fps: 30, threads: 0 })).not.toContain('-threads');
  });
  it('resolutionSize', () => {
    expect(resolutionSize('480p')).toEqual({ width: 854, height: 480 });
    expect(resolutionSize('720p')).toEqual({ width: 1280, height: 720 });
    expect(resolutionSize('1080p')).toEqual({ width: 1920, height: 1080 });
  });
});
