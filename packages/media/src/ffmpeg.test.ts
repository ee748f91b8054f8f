import { describe, expect, it } from 'vitest';
import { FfmpegError, MediaAbortedError } from './errors.js';
import { ffprobe, parseFfmpegProgress, runFfmpeg, withRunnerFlags } from './ffmpeg.js';
import { childFfmpegPids, MUSIC } from './testkit.js';

// Captured from `ffmpeg -progress pipe:1` (ffmpeg 5.1, Debian 12).
const REAL_PROGRESS = `frame=47
fps=0.00
stream_0_0_q=28.0
bitrate=   0.3kbits/s
total_size=48
out_time_us=1066667
out_time_ms=1066667
out_time=00:00:01.066667
dup_frames=0
drop_frames=0
speed=2.12x
progress=continue
`;
const REAL_END = `frame=60
fps=0.00
stream_0_0_q=-1.0
bitrate=  14.9kbits/s
total_size=3721
out_time_us=2000000
out_time_ms=2000000
out_time=00:00:02.000000
dup_frames=0
drop_frames=0
speed=3.79x
progress=end
`;

describe('parseFfmpegProgress', () => {
  it('reads out_time_us and frame from real progress lines', () => {
    expect(parseFfmpegProgress(REAL_PROGRESS)).toEqual({ outTimeSeconds: 1.066667, frame: 47, end: false });
  });
  it('sees progress=end', () => {
    expect(parseFfmpegProgress(REAL_END)).toEqual({ outTimeSeconds: 2, frame: 60, end: true });
  });
  it('ignores N/A and partial input', () => {
    expect(parseFfmpegProgress('out_time_us=N/A\nout_time_ms=N/A\nprogress=continue\n')).toEqual({ end: false });
    expect(parseFfmpegProgress('')).toEqual({ end: false });
  });
});

describe('withRunnerFlags', () => {
  it('prepends the fixed flags once', () => {
    expect(withRunnerFlags(['-i', 'a', 'b'])).toEqual(['-hide_banner', '-nostdin', '-y', '-progress', 'pipe:1', '-nostats', '-i', 'a', 'b']);
    expect(withRunnerFlags(['-y', '-i', 'a'])).toEqual(['-hide_banner', '-nostdin', '-progress', 'pipe:1', '-nostats', '-y', '-i', 'a']);
  });
});

describe('runFfmpeg', () => {
  it('reports increasing progress ending at 1', async () => {
    const seen: number[] = [];
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=30:d=2', '-f', 'null', '-'], {
      durationSeconds: 2,
      onProgress: (f) => seen.push(f),
    });
    expect(seen.at(-1)).toBe(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('throws FfmpegError with exit code, args and stderr tail', async () => {
    const err = await runFfmpeg(['-i', '/nonexistent/input.png', '-f', 'null', '-']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    const fe = err as FfmpegError;
    expect(fe.code).toBe('ffmpeg_failed');
    expect(fe.exitCode).not.toBe(0);
    expect(fe.args).toContain('/nonexistent/input.png');
    expect(fe.stderrTail).toMatch(/No such file/);
  });

  it('abort kills ffmpeg quickly and waits for it to exit', async () => {
    const ac = new AbortController();
    const run = runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30:d=600', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'null', '-'], {
      signal: ac.signal,
      durationSeconds: 600,
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(childFfmpegPids().length).toBe(1);
    const t0 = performance.now();
    ac.abort();
    const err = await run.catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(MediaAbortedError);
    expect((err as Error).name).toBe('AbortError');
    expect(elapsed).toBeLessThan(2000);
    expect(childFfmpegPids()).toEqual([]);
  }, 15_000);

  it('refuses to start when already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runFfmpeg(['-version'], { signal: ac.signal })).rejects.toBeInstanceOf(MediaAbortedError);
  });
});

describe('ffprobe', () => {
  it('returns streams and format', async () => {
    const p = await ffprobe(MUSIC);
    expect(p.streams[0]?.codec_type).toBe('audio');
    expect(Number(p.format.duration)).toBeGreaterThan(100);
  });
});
