/**
 * The ffmpeg runner: the ONLY module of @mt/media that spawns processes (execa).
 * Argument builders elsewhere are pure; this module runs them, reports progress parsed from
 * `-progress pipe:1`, cancels through AbortSignal (SIGTERM, then SIGKILL after a short delay)
 * and waits for the child to exit before rejecting.
 */
import type { Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { FfmpegError, MediaAbortedError, throwIfAborted } from './errors.js';

/**
 * Delay between SIGTERM and SIGKILL when a run is cancelled. On TERM ffmpeg flushes its encoder and
 * rewrites the file for faststart (~100 ms for a clip); the output of a cancelled run is thrown away,
 * so the grace is kept short and a cancel is done within ~0.2 s.
 */
export const FORCE_KILL_AFTER_MS = 100;
const STDERR_TAIL_CHARS = 4000;

export function ffmpegPath(): string {
  return process.env.FFMPEG_PATH || 'ffmpeg';
}
export function ffprobePath(): string {
  return process.env.FFPROBE_PATH || 'ffprobe';
}

export interface FfmpegProgress {
  /** Output time reached, in seconds (from out_time_us / out_time_ms). */
  outTimeSeconds?: number;
  /** Frames written so far. */
  frame?: number;
  /** `progress=end` seen. */
  end: boolean;
}

/**
 * Parse a block of `-progress` output (key=value lines). Pure. Returns the LAST values seen in the
 * text; keys that are absent or `N/A` are left undefined.
 */
export function parseFfmpegProgress(chunk: string): FfmpegProgress {
  const out: FfmpegProgress = { end: false };
  for (const raw of chunk.split(/\r?\n/)) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'out_time_us' || key === 'out_time_ms') {
      // Both are microseconds in ffmpeg (out_time_ms is a historical misnomer).
      const us = Number(value);
      if (value !== '' && Number.isFinite(us) && us >= 0) out.outTimeSeconds = us / 1e6;
    } else if (key === 'frame') {
      const n = Number(value);
      if (value !== '' && Number.isFinite(n)) out.frame = n;
    } else if (key === 'progress') {
      out.end = value === 'end';
    }
  }
  return out;
}

/** Writes data into one of the child's pipes at the pipe's pace and ends it; rejects if a write fails. */
export type Feed = (sink: Writable) => Promise<void>;

export interface RunFfmpegOptions {
  signal?: AbortSignal | undefined;
  /** Expected output duration, to turn out_time into a fraction. */
  durationSeconds?: number | undefined;
  onProgress?: ((fraction: number) => void) | undefined;
  /**
   * Writers of the child's file descriptors 3, 4, ... (read by ffmpeg as `pipe:3`, `pipe:4`); each ends
   * its stream when done. The run's outcome is the child's: a feed cut short by the child's exit or a
   * cancel is not an error of its own.
   */
  feeds?: ReadonlyArray<Feed> | undefined;
}

/** Prepend `-hide_banner -nostdin -y -progress pipe:1 -nostats` unless the caller already gave them. Pure. */
export function withRunnerFlags(args: readonly string[]): string[] {
  const add: string[] = [];
  for (const flag of ['-hide_banner', '-nostdin', '-y']) if (!args.includes(flag)) add.push(flag);
  if (!args.includes('-progress')) add.push('-progress', 'pipe:1');
  if (!args.includes('-nostats')) add.push('-nostats');
  return [...add, ...args];
}

function tail(text: string | undefined): string {
  if (!text) return '';
  return text.length > STDERR_TAIL_CHARS ? text.slice(-STDERR_TAIL_CHARS) : text;
}

interface ExecaLikeError {
  isCanceled?: boolean;
  isForcefullyTerminated?: boolean;
  exitCode?: number;
  signal?: string;
  stderr?: unknown;
  shortMessage?: string;
  message?: string;
  code?: string;
}

function toMediaError(cmd: string, args: readonly string[], err: unknown, signal?: AbortSignal): Error {
  const e = (err ?? {}) as ExecaLikeError;
  if (e.isCanceled || signal?.aborted) {
    return new MediaAbortedError(`${cmd} aborted`, { cause: signal?.reason ?? err });
  }
  const stderr = typeof e.stderr === 'string' ? e.stderr : '';
  const lastLine = stderr.trim().split('\n').slice(-1)[0] ?? '';
  const what = e.code === 'ENOENT' ? `${cmd} not found` : `${cmd} failed${lastLine ? `: ${lastLine}` : ''}`;
  return new FfmpegError({
    message: what,
    exitCode: e.exitCode,
    signal: e.signal,
    args,
    stderrTail: tail(stderr),
    cause: err,
  });
}

async function settle<T>(cmd: string, args: readonly string[], child: ResultPromise, signal?: AbortSignal): Promise<T> {
  try {
    return (await child) as T;
  } catch (err) {
    // execa settles only after the child has exited (SIGTERM, then SIGKILL after FORCE_KILL_AFTER_MS).
    throw toMediaError(cmd, args, err, signal);
  }
}

/** Run ffmpeg and capture stderr (e.g. loudnorm's JSON report). */
export async function runFfmpegCapture(args: string[], opts: RunFfmpegOptions = {}): Promise<{ stderr: string }> {
  const { signal, durationSeconds, onProgress } = opts;
  throwIfAborted(signal);
  const fullArgs = withRunnerFlags(args);
  const feeds = opts.feeds ?? [];
  const child = execa(ffmpegPath(), fullArgs, {
    cancelSignal: signal,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    stdio: ['ignore', 'pipe', 'pipe', ...feeds.map(() => 'pipe' as const)],
    buffer: { stdout: false, stderr: true },
    stripFinalNewline: false,
    encoding: 'utf8',
    reject: true,
  });
  let pending = '';
  let last = -1;
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (data: string) => {
    pending += data;
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    const complete = pending.slice(0, cut + 1);
    pending = pending.slice(cut + 1);
    if (!onProgress) return;
    const p = parseFfmpegProgress(complete);
    let fraction: number | undefined;
    if (p.end) fraction = 1;
    else if (p.outTimeSeconds !== undefined && durationSeconds && durationSeconds > 0) {
      fraction = Math.min(0.999, Math.max(0, p.outTimeSeconds / durationSeconds));
    }
    if (fraction !== undefined && fraction > last) {
      last = fraction;
      try {
        onProgress(fraction);
      } catch {
        // a progress callback must never break the render
      }
    }
  });
  // A feed that fails on its own (not because the child stopped reading) stops the child: ffmpeg must
  // not take the end of its input for the end of the video.
  let feedError: unknown;
  const fed = feeds.map((feed, i) =>
    feed(child.stdio[3 + i] as Writable).catch((err: unknown) => {
      const code = (err as { code?: string }).code;
      if (code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED') return;
      feedError ??= err;
      child.kill('SIGKILL');
    }),
  );
  let result: { stderr: string };
  try {
    result = await settle<{ stderr: string }>('ffmpeg', fullArgs, child, signal);
  } catch (err) {
    await Promise.all(fed);
    throw feedError && !signal?.aborted ? feedError : err;
  }
  await Promise.all(fed);
  if (feedError) throw feedError;
  if (onProgress && last < 1) onProgress(1);
  return { stderr: typeof result.stderr === 'string' ? result.stderr : '' };
}

/** Run system ffmpeg (FFMPEG_PATH overrides). Throws FfmpegError or MediaAbortedError. */
export async function runFfmpeg(args: string[], opts: RunFfmpegOptions = {}): Promise<void> {
  await runFfmpegCapture(args, opts);
}

/** Run another media tool (heif-convert, ...) with the same cancel and error handling. */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  throwIfAborted(opts.signal);
  const child = execa(cmd, args, {
    cancelSignal: opts.signal,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    stdin: 'ignore',
    encoding: 'utf8',
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  });
  const r = await settle<{ stdout: unknown; stderr: unknown }>(cmd, args, child, opts.signal);
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  nb_read_frames?: string;
  duration?: string;
  sample_rate?: string;
  channels?: number;
  color_space?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_range?: string;
  has_b_frames?: number;
  disposition?: Record<string, number>;
  [key: string]: unknown;
}
export interface ProbeResult {
  streams: ProbeStream[];
  format: { format_name?: string; duration?: string; size?: string; bit_rate?: string; [key: string]: unknown };
}

/**
 * ffprobe a file: parsed JSON of streams and format. `countFrames` decodes the video to count its
 * frames (for files from elsewhere); our own MP4 encodes state theirs in `nb_frames`.
 */
export async function ffprobe(path: string, signal?: AbortSignal, opts: { countFrames?: boolean } = {}): Promise<ProbeResult> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format'];
  if (opts.countFrames) args.push('-count_frames', '-select_streams', 'v:0');
  args.push('-i', path);
  const { stdout } = await runCommand(ffprobePath(), args, { signal });
  let parsed: Partial<ProbeResult>;
  try {
    parsed = JSON.parse(stdout) as Partial<ProbeResult>;
  } catch (err) {
    throw new FfmpegError({ message: 'ffprobe returned invalid JSON', args, stderrTail: tail(stdout), cause: err });
  }
  return { streams: parsed.streams ?? [], format: parsed.format ?? {} };
}
