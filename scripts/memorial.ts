// `pnpm memorial`: make a memorial video from a folder of photos through a running gateway.
//   pnpm memorial --photos DIR [--music FILE] [--title T] [--name N] [--born Y] [--died Y]
//                 [--seconds 6|10] [--resolution 720p|1080p] [--style auto|classic|generative] --out FILE
//                 [--key KEY]   (default: $MT_API_KEY; make one with ./mt api-key create --email EMAIL)
//                 [--draft]     a draft preview instead (854×480, fast, classic transitions), downloaded to --out
// Shows a progress bar with the current stage; Ctrl-C cancels the job.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createMemorialClient, type Job, MemorialApiError, ok } from '@mt/client';

const PHOTO_EXT = /\.(jpe?g|png|webp|tiff?|heic|heif|gif|avif)$/i;
const STAGE_WORDS: Record<string, string> = {
  queued: 'waiting for a worker',
  pipeline_prepare: 'getting ready',
  canvas_start: 'preparing the photos',
  canvas_generate: 'preparing the photos',
  canvas_validate: 'checking the photos',
  canvas_done: 'photos ready',
  transition_start: 'making transitions',
  transition_generate: 'making transitions',
  transition_validate: 'checking transitions',
  transition_done: 'making transitions',
  last_clip_start: 'the closing scene',
  last_clip_generate: 'the closing scene',
  last_clip_finalize: 'the closing scene',
  last_clip_done: 'the closing scene',
  render_start: 'putting the video together',
  render_concat: 'putting the video together',
  render_finalize: 'adding the music',
  render_done: 'finishing',
  pipeline_done: 'done',
};

export interface MemorialOptions {
  url: string;
  /** The API key the memorial is made with (it belongs to that key's account). */
  apiKey?: string;
  photos: string;
  music?: string;
  title: string;
  name?: string;
  born?: string;
  died?: string;
  seconds: 6 | 10;
  resolution: '720p' | '1080p';
  style: 'auto' | 'classic' | 'generative';
  /** Make and download the draft preview (POST/GET /projects/{id}/preview) instead of the video. */
  draft?: boolean;
  out: string;
  log?: (line: string) => void;
}

class CliError extends Error {}

const MAKE_A_KEY = 'run ./mt api-key create --email you@example.com and set MT_API_KEY to the key it prints (or pass --key)';

/** Runs one API call; what went wrong becomes a CliError in words for the person at the terminal. */
async function call<T>(origin: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    if (e instanceof MemorialApiError && e.status === 401)
      throw new CliError(`MemorialTube at ${origin} refused the API key (401 ${e.code}; wrong or revoked): ${MAKE_A_KEY}`);
    if (e instanceof MemorialApiError) throw new CliError(e.status ? `${e.message} (${e.status} ${e.code})` : e.message);
    if (e instanceof TypeError)
      throw new CliError(
        `cannot reach MemorialTube at ${origin} (${(e.cause as Error | undefined)?.message ?? e.message}). Is it running? Start it with ./mt start`,
      );
    throw e;
  }
}

function bar(percent: number, width = 30): string {
  const n = Math.round((percent / 100) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${percent.toFixed(0).padStart(3)}%`;
}

/** Creates the memorial, uploads, runs it with a progress bar, downloads the video to `out`. */
export async function makeMemorial(o: MemorialOptions): Promise<{ projectId: string; out: string; seconds: number }> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  if (!o.apiKey) throw new CliError(`no API key (MemorialTube needs one to know whose memorial this is): ${MAKE_A_KEY}`);
  const api = createMemorialClient(o.url, { apiKey: o.apiKey });
  const files = (await readdir(o.photos)).filter((f) => PHOTO_EXT.test(f)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (files.length < 2) throw new CliError(`${o.photos} has ${files.length} photo(s); a memorial video needs at least 2 (JPEG, PNG, WebP, TIFF, HEIC, GIF).`);

  const body = {
    title: o.title,
    subject_name: o.name,
    born: o.born,
    died: o.died,
    transition_seconds: o.seconds,
    resolution: o.resolution,
    transition_style: o.style,
  };
  const project = await call(api.baseUrl, async () => ok(await api.POST('/api/v1/projects', { body })));
  log(`Memorial "${project.title}" (${project.id}): uploading ${files.length} photos${o.music ? ' and music' : ''}`);
  const refused: string[] = [];
  for (const f of [...files.map((f) => path.join(o.photos, f)), ...(o.music ? [o.music] : [])]) {
    // One request a file: a refused file is named and the others still go in.
    try {
      await call(api.baseUrl, async () => ok(await api.uploadFiles(project.id, [{ path: f }])));
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      refused.push(`${path.basename(f)}: ${e.message}`);
    }
  }
  for (const r of refused) log(`  refused ${r}`);
  const project_id = project.id;
  const job = await call(api.baseUrl, async () =>
    ok(await api.POST(o.draft ? '/api/v1/projects/{project_id}/preview' : '/api/v1/projects/{project_id}/run', { params: { path: { project_id } } })),
  );
  log(`Making the ${o.draft ? 'draft preview' : 'video'} (job ${job.id}, trace ${job.trace_id})`);

  let cancelled = false;
  const onSigint = () => {
    if (cancelled) process.exit(130);
    cancelled = true;
    log('\nCancelling…');
    void api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id: job.id } } }).catch(() => {});
  };
  process.on('SIGINT', onSigint);
  const tty = process.stdout.isTTY;
  let lastLine = '';
  const show = (current: Job) => {
    const rt = current.runtime;
    const words = STAGE_WORDS[rt.stage] ?? rt.stage;
    const line = `${bar(rt.progress_percent)} ${words}${rt.detail_message ? ` — ${rt.detail_message}` : ''}`;
    if (tty)
      process.stdout.write(`\r${line.slice(0, (process.stdout.columns ?? 100) - 1).padEnd(Math.min(lastLine.length, (process.stdout.columns ?? 100) - 1))}`);
    else if (words !== STAGE_WORDS[lastLine] && line !== lastLine) log(line);
    lastLine = tty ? line : rt.stage;
  };
  let current: Job;
  try {
    // A memorial of 100 photos takes a while; the deadline only stops a wait that can no longer end.
    current = await call(api.baseUrl, () => api.waitForJob(job.id, { timeoutMs: 6 * 3_600_000, maxOutageMs: 60_000, intervalMs: 500, onUpdate: show }));
  } finally {
    process.off('SIGINT', onSigint);
    if (tty) process.stdout.write('\n');
  }
  if (current.status === 'canceled') throw new CliError('The memorial was cancelled.');
  if (current.status === 'failed')
    throw new CliError(`The memorial could not be made: ${current.error?.message ?? 'unknown reason'} (${current.error?.code}, stage ${current.error?.stage})`);

  // Written beside the target and renamed when complete: a broken download never looks like a video.
  const { sizeBytes } = await api.downloadVideo(project.id, o.out, { draft: o.draft }).catch((e: Error) => {
    throw new CliError(`downloading the ${o.draft ? 'draft preview' : 'video'} failed (${e.message})`);
  });
  const seconds = Number(current.result?.duration_seconds ?? 0);
  log(`Done: ${path.resolve(o.out)} (${(sizeBytes / 1048576).toFixed(1)} MB, ${seconds || '?'} s)`);
  return { projectId: project.id, out: path.resolve(o.out), seconds };
}

export function parseMemorialArgs(argv: string[]): Omit<MemorialOptions, 'out' | 'photos'> & { out?: string; photos?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      photos: { type: 'string' },
      music: { type: 'string' },
      title: { type: 'string' },
      name: { type: 'string' },
      born: { type: 'string' },
      died: { type: 'string' },
      seconds: { type: 'string', default: '6' },
      resolution: { type: 'string', default: '1080p' },
      style: { type: 'string', default: 'auto' },
      out: { type: 'string' },
      url: { type: 'string', default: process.env.MT_URL ?? 'http://127.0.0.1:8080' },
      key: { type: 'string' },
      draft: { type: 'boolean', default: false },
    },
  });
  if (!['6', '10'].includes(values.seconds!)) throw new CliError('--seconds must be 6 or 10');
  if (!['720p', '1080p'].includes(values.resolution!)) throw new CliError('--resolution must be 720p or 1080p');
  if (!['auto', 'classic', 'generative'].includes(values.style!)) throw new CliError('--style must be auto, classic or generative');
  return {
    url: values.url!,
    apiKey: values.key || process.env.MT_API_KEY?.trim() || undefined,
    photos: values.photos,
    music: values.music,
    title: values.title ?? (values.name ? `In memory of ${values.name}` : 'In loving memory'),
    name: values.name,
    born: values.born,
    died: values.died,
    seconds: Number(values.seconds) as 6 | 10,
    resolution: values.resolution as '720p' | '1080p',
    style: values.style as 'auto',
    draft: values.draft,
    out: values.out,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const o = parseMemorialArgs(process.argv.slice(2));
    if (!o.photos || !o.out)
      throw new CliError('usage: pnpm memorial --photos DIR [--music FILE] [--title T] [--seconds 6|10] [--key KEY] [--draft] --out FILE');
    await makeMemorial(o as MemorialOptions);
  } catch (e) {
    if (e instanceof CliError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`memorial: ${(e as Error).message}`);
      process.exit(1);
    }
    throw e;
  }
}
