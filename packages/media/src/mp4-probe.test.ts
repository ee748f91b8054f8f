import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaValidationError } from './errors.js';
import { ffprobe, runFfmpeg } from './ffmpeg.js';
import { avcPixelFormat, frameRate, probeMp4 } from './mp4-probe.js';
import { encodeProfile } from './profile.js';
import { AUDIO_ARGS } from './render.js';
import { tempDir } from './testkit.js';

let t: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  t = await tempDir();
});
afterAll(async () => {
  await t.cleanup();
});

const testsrc = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
// What the checks read: all of a video stream's facts; of an audio stream, that it is there and AAC.
const sine = ['-f', 'lavfi', '-i', 'sine=duration=1'];
const VIDEO_FIELDS = ['codec_type', 'codec_name', 'profile', 'pix_fmt', 'width', 'height', 'r_frame_rate', 'nb_frames'];
const AUDIO_FIELDS = ['codec_type', 'codec_name', 'nb_frames'];
const facts = (streams: Array<Record<string, unknown>>) =>
  streams.map((s) => Object.fromEntries((s.codec_type === 'video' ? VIDEO_FIELDS : AUDIO_FIELDS).map((f) => [f, s[f]])));

describe('probeMp4', () => {
  // Each encode as ffmpeg would make it; the in-process reading must say what ffprobe says of it.
  const cases: Array<[string, string[]]> = [
    ['a clip of our encode profile (High, 4:2:0, 30 fps)', [...testsrc('320x180', 30, 1), ...encodeProfile({ width: 320, height: 180, fps: 30 })]],
    ['Main profile at 25 fps', [...testsrc('256x144', 25, 1), '-c:v', 'libx264', '-profile:v', 'main', '-pix_fmt', 'yuv420p']],
    ['High 4:4:4 (a pixel format our profile refuses)', [...testsrc('256x144', 24, 1), '-c:v', 'libx264', '-pix_fmt', 'yuv444p']],
    ['High 4:2:2', [...testsrc('256x144', 24, 1), '-c:v', 'libx264', '-pix_fmt', 'yuv422p']],
    ['video with an AAC track', [...testsrc('256x144', 30, 1), ...sine, '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...AUDIO_ARGS]],
  ];
  it.each(cases)('reads %s as ffprobe does', async (name, args) => {
    const file = t.file(`${name.replace(/\W+/g, '-')}.mp4`);
    await runFfmpeg([...args, file]);
    const [mine, theirs] = await Promise.all([probeMp4(file), ffprobe(file)]);
    expect(facts(mine.streams)).toEqual(facts(theirs.streams));
  });

  it('says a file that is not an MP4, or an MP4 cut short before its movie box, is unreadable', async () => {
    const png = t.file('not.mp4');
    await writeFile(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    await expect(probeMp4(png)).rejects.toMatchObject({ check: 'unreadable' });
    const clip = t.file('cut.mp4');
    await runFfmpeg([...testsrc('320x180', 30, 1), ...encodeProfile({ width: 320, height: 180, fps: 30 }), clip]);
    const cut = t.file('cut-short.mp4');
    await copyFile(clip, cut);
    await truncate(cut, 200); // ftyp and the start of moov (faststart puts moov first)
    await expect(probeMp4(cut)).rejects.toBeInstanceOf(MediaValidationError);
    expect((await readFile(clip)).length).toBeGreaterThan(200);
  });

  it('takes the pixel format from the avcC extension and the frame rate from the sample durations', () => {
    expect(avcPixelFormat(100, Uint8Array.of(0xfd, 0xf8, 0xf8, 0))).toBe('yuv420p');
    expect(avcPixelFormat(110, Uint8Array.of(0xfd, 0xfa, 0xfa, 0))).toBe('yuv420p10le');
    expect(avcPixelFormat(244, Uint8Array.of(0xff, 0xf8, 0xf8, 0))).toBe('yuv444p');
    expect(avcPixelFormat(100, undefined)).toBeUndefined();
    expect(avcPixelFormat(77, undefined)).toBe('yuv420p');
    expect(frameRate(15360, [512, 512])).toBe('30/1');
    expect(frameRate(30000, [1001])).toBe('30000/1001');
    expect(frameRate(90000, [3000, 3600])).toBe('0/0');
  });
});
