import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '@mt/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateGeneratedClip, judgeRaw, normaliseArgs, parseRate, parseScan, scanArgs } from './gate.js';
import { GenerativeFailure } from './generative-errors.js';

// Real lines of ffmpeg 5.1's blackdetect/freezedetect on a clip with frames 32..50 black.
const SCAN_STDERR = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'black.mp4':
[freezedetect @ 0x55a20c34d940] lavfi.freezedetect.freeze_start: 1.875
[blackdetect @ 0x55a20c34c700] black_start:1.875 black_end:3.1875 black_duration:1.3125
[freezedetect @ 0x55a20c34d940] lavfi.freezedetect.freeze_duration: 1.3125
[freezedetect @ 0x55a20c34d940] lavfi.freezedetect.freeze_end: 3.1875
[freezedetect @ 0x5574e7316800] lavfi.freezedetect.freeze_start: 4.5
`;

describe('pure parts', () => {
  it('parses black and frozen stretches; an open freeze runs to the end', () => {
    expect(parseScan(SCAN_STDERR, 5.0625)).toEqual({
      black: [{ start: 1.875, end: 3.1875 }],
      frozen: [
        { start: 1.875, end: 3.1875 },
        { start: 4.5, end: 5.0625 },
      ],
    });
    expect(parseScan('frame=81 fps=0.0 q=-0.0 Lsize=N/A', 5)).toEqual({ black: [], frozen: [] });
  });

  it('parses frame rates', () => {
    expect(parseRate('16/1')).toBe(16);
    expect(parseRate('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRate(undefined)).toBe(0);
  });

  it('builds the scan arguments', () => {
    // biome-ignore format: ffmpeg arguments grouped by option
    expect(scanArgs('in.mp4')).toEqual([
      '-i', 'in.mp4', '-map', '0:v:0',
      '-vf', 'blackdetect=d=0.25:pic_th=0.98:pix_th=0.08,freezedetect=n=0.002:d=1',
      '-an', '-f', 'null', '-',
    ]);
  });

  it('retimes with exact timestamps: first frame on 0, last on outFrames-1', () => {
    const args = normaliseArgs({ input: 'raw.mp4', output: 'out.mp4', inFrames: 81, outFrames: 180, fps: 30, width: 1280, height: 720, interpolate: 'blend' });
    // biome-ignore format: ffmpeg arguments grouped by option
    expect(args.slice(0, 8)).toEqual([
      '-i', 'raw.mp4', '-map', '0:v:0', '-vf',
      'tpad=stop_mode=clone:stop=2,settb=expr=1/2400,setpts=N*179,minterpolate=fps=30:mi_mode=blend,scale=1280:720:flags=bicubic:out_color_matrix=bt709:out_range=tv,format=yuv420p,setsar=1',
      '-frames:v', '180',
    ]);
    expect(args).toContain('libx264');
    expect(args.at(-1)).toBe('out.mp4');
    expect(normaliseArgs({ input: 'r', output: 'o', inFrames: 81, outFrames: 144, fps: 24, width: 8, height: 8, interpolate: 'dup' })[5]).toContain(',fps=24,');
    expect(normaliseArgs({ input: 'r', output: 'o', inFrames: 81, outFrames: 144, fps: 24, width: 8, height: 8, interpolate: 'mci' })[5]).toContain(
      'mi_mode=mci',
    );
    expect(() => normaliseArgs({ input: 'r', output: 'o', inFrames: 1, outFrames: 144, fps: 24, width: 8, height: 8, interpolate: 'dup' })).toThrow(RangeError);
  });

  const expectRaw = { width: 480, height: 272, frames: 81, fps: 16 };
  const clean = { black: [], frozen: [] };
  it.each([
    [{ ...expectRaw }, clean, null],
    [{ ...expectRaw, width: 832 }, clean, 'size_drift'],
    [{ ...expectRaw, frames: 49 }, clean, 'frame_count'],
    [{ ...expectRaw, fps: 24 }, clean, 'duration_drift'],
    [{ ...expectRaw }, { black: [{ start: 2, end: 3 }], frozen: [] }, 'black_frames'],
    [{ ...expectRaw }, { black: [], frozen: [{ start: 0, end: 5 }] }, 'frozen_frames'],
  ])('judges the raw clip %j %j → %s', (probe, scan, reason) => {
    const v = judgeRaw(probe, expectRaw, scan);
    expect(v.ok ? null : v.reason).toBe(reason);
  });
});

describe('gateGeneratedClip on real clips', () => {
  let dir: string;
  const a = () => path.join(dir, 'a.png');
  const b = () => path.join(dir, 'b.png');
  const morph = async (name: string, frames: number, end = b(), extra = '') => {
    const file = path.join(dir, name);
    const still = (i: number) => `[${i}]scale=160:96,format=yuv420p,loop=loop=-1:size=1,setpts=N/16/TB,trim=end_frame=${frames + 1}`;
    // biome-ignore format: ffmpeg arguments grouped by option
    await runFfmpeg([
      '-i', a(), '-i', end,
      '-filter_complex', `${still(0)}[a];${still(1)}[b];[a][b]xfade=transition=fade:duration=${(frames - 1) / 16}:offset=0${extra},format=yuv420p[v]`,
      '-map', '[v]', '-frames:v', String(frames),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-r', '16', file,
    ]);
    return file;
  };
  const gate = (raw: string) =>
    gateGeneratedClip({
      raw,
      output: path.join(dir, `out-${path.basename(raw)}`),
      expect: { width: 160, height: 96, frames: 33, fps: 16 },
      target: { width: 320, height: 180, fps: 24, frames: 144 },
      first: a(),
      last: b(),
      minSsim: 0.7,
      interpolate: 'blend',
      signal: new AbortController().signal,
    });
  const reason = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => (e instanceof GenerativeFailure ? e.reason : String(e)),
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mt-gate-'));
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=1', '-frames:v', '1', a()]);
    await runFfmpeg(['-f', 'lavfi', '-i', 'mandelbrot=s=320x180:r=1', '-frames:v', '1', b()]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a good morph and writes an exact 6 s clip in the shared profile', async () => {
    const r = await gate(await morph('good.mp4', 33));
    expect(r.firstSsim).toBeGreaterThan(0.8);
    expect(r.lastSsim).toBeGreaterThan(0.8);
  });
  it('fails the wrong frame count, black stretches and a wrong ending, with their reasons', async () => {
    expect(await reason(gate(await morph('short.mp4', 29)))).toBe('frame_count');
    expect(await reason(gate(await morph('black.mp4', 33, b(), `,drawbox=c=black:t=fill:enable='between(n,10,20)'`)))).toBe('black_frames');
    expect(await reason(gate(await morph('wrong-end.mp4', 33, a())))).toBe('frozen_frames');
    const other = path.join(dir, 'c.png');
    await runFfmpeg(['-f', 'lavfi', '-i', 'smptehdbars=s=320x180:r=1', '-frames:v', '1', other]);
    expect(await reason(gate(await morph('other-end.mp4', 33, other)))).toBe('last_frame_mismatch');
  });
  it('stops at once when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('canceled by test'));
    await expect(
      gateGeneratedClip({
        raw: path.join(dir, 'good.mp4'),
        output: path.join(dir, 'x.mp4'),
        expect: { width: 160, height: 96, frames: 33, fps: 16 },
        target: { width: 320, height: 180, fps: 24, frames: 144 },
        first: a(),
        last: b(),
        minSsim: 0.7,
        interpolate: 'blend',
        signal: ac.signal,
      }),
    ).rejects.toThrow('canceled by test');
  });
});
