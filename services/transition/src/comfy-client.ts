/**
 * ComfyUI's HTTP + websocket API, and nothing else: upload images, queue a prompt, follow it on the
 * websocket (with /history polling as the backstop), download the result, and on abort take the
 * prompt off the server (interrupt when it is the running one, queue deletion when it waits).
 * Every call takes an AbortSignal; a request never outlives its own timeout.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GenerativeFailure } from './generative-errors.js';
import type { ProviderLog } from './provider.js';
import type { Workflow } from './workflow.js';

/** Largest result we download (a 5 s clip is a few MB; this only stops a runaway answer). */
const MAX_RESULT_BYTES = 1024 * 1024 * 1024;
/** Short timeout of the clean-up calls made after an abort (the job's own signal has fired by then). */
const CLEANUP_TIMEOUT_MS = 5_000;
const VIDEO_EXT = /\.(mp4|webm|mkv|mov|m4v)$/i;

export interface OutputRef {
  filename: string;
  subfolder: string;
  type: string;
}
export interface HistoryEntry {
  outputs?: Record<string, Record<string, unknown>>;
  status?: { status_str?: string; completed?: boolean; messages?: Array<[string, Record<string, unknown>]> };
}
export interface QueueState {
  running: string[];
  pending: string[];
}
export interface RunOptions {
  workflow: Workflow;
  /** Where the result video goes (its extension is replaced by the server's). */
  outputFile: string;
  signal: AbortSignal;
  timeoutMs: number;
  onProgress?: (fraction: number, detail: string) => void;
  log?: ProviderLog;
}
export interface RunResult {
  promptId: string;
  file: string;
}

type FetchLike = typeof fetch;
type WebSocketCtor = typeof WebSocket;

/** The prompt's outcome as told by the websocket or /history. */
type Outcome = { kind: 'done'; entry: HistoryEntry } | { kind: 'failed'; failure: GenerativeFailure };

export class ComfyClient {
  private readonly fetchImpl: FetchLike;
  private readonly WS: WebSocketCtor;

  constructor(
    readonly baseUrl: string,
    private readonly opts: { requestTimeoutMs: number; pollMs: number; fetch?: FetchLike; WebSocket?: WebSocketCtor },
  ) {
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.WS = opts.WebSocket ?? globalThis.WebSocket;
  }

  private url(p: string, query?: Record<string, string>): string {
    const u = new URL(this.baseUrl.replace(/\/+$/, '') + p);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v);
    return u.toString();
  }

  /** One HTTP call with its own timeout, mapped onto GenerativeFailure unless the caller aborted. */
  private async call(
    method: string,
    p: string,
    signal: AbortSignal,
    init: { body?: FormData | string; json?: unknown; query?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    try {
      return await this.fetchImpl(this.url(p, init.query), {
        method,
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.requestTimeoutMs)]),
      });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError')
        throw new GenerativeFailure('timeout', `the model server did not answer ${method} ${p} in ${this.opts.requestTimeoutMs} ms`, true, { cause: e });
      throw new GenerativeFailure('unavailable', `the model server could not be reached (${method} ${p}: ${err.cause?.code ?? err.message})`, true, {
        cause: e,
      });
    }
  }

  private async json<T>(res: Response, what: string): Promise<T> {
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new GenerativeFailure('server_error', `${what}: the model server answered ${res.status} with something that is not JSON (${text.slice(0, 200)})`);
    }
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    const text = await res.text().catch(() => '');
    throw new GenerativeFailure('server_error', `${what}: the model server answered ${res.status} ${text.slice(0, 300)}`.trim());
  }

  /** GET /system_stats: is the server up and answering? */
  async systemStats(signal: AbortSignal): Promise<Record<string, unknown>> {
    const res = await this.call('GET', '/system_stats', signal);
    await this.expectOk(res, 'system_stats');
    return this.json(res, 'system_stats');
  }

  /** POST /upload/image; returns the name to put in a LoadImage node. */
  async upload(file: string, name: string, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    form.append('image', await openAsBlob(file, { type: 'image/png' }), name);
    form.append('type', 'input');
    form.append('overwrite', 'true');
    const res = await this.call('POST', '/upload/image', signal, { body: form });
    await this.expectOk(res, 'upload');
    const r = await this.json<{ name?: string; subfolder?: string }>(res, 'upload');
    if (!r.name) throw new GenerativeFailure('server_error', 'upload: the model server did not name the uploaded image');
    return r.subfolder ? `${r.subfolder}/${r.name}` : r.name;
  }

  /** POST /prompt. 400 (node_errors) is a refusal that a retry would meet again. */
  async submit(workflow: Workflow, clientId: string, signal: AbortSignal): Promise<string> {
    const res = await this.call('POST', '/prompt', signal, { json: { prompt: workflow, client_id: clientId, extra_data: { client: 'memorialtube' } } });
    if (res.status === 400) {
      const r = await this.json<{
        error?: { message?: string; details?: string } | string;
        node_errors?: Record<string, { errors?: Array<{ message?: string; details?: string }>; class_type?: string }>;
      }>(res, 'prompt');
      throw new GenerativeFailure('refused', `the model server refused the workflow: ${describeRefusal(r)}`, false);
    }
    await this.expectOk(res, 'prompt');
    const r = await this.json<{ prompt_id?: string; node_errors?: Record<string, unknown> }>(res, 'prompt');
    if (!r.prompt_id) throw new GenerativeFailure('server_error', 'prompt: no prompt_id in the answer');
    return r.prompt_id;
  }

  async history(promptId: string, signal: AbortSignal): Promise<HistoryEntry | null> {
    const res = await this.call('GET', `/history/${encodeURIComponent(promptId)}`, signal);
    await this.expectOk(res, 'history');
    const r = await this.json<Record<string, HistoryEntry>>(res, 'history');
    return r[promptId] ?? null;
  }

  async queue(signal: AbortSignal): Promise<QueueState> {
    const res = await this.call('GET', '/queue', signal);
    await this.expectOk(res, 'queue');
    const r = await this.json<{ queue_running?: unknown[][]; queue_pending?: unknown[][] }>(res, 'queue');
    const ids = (q: unknown[][] | undefined) => (q ?? []).map((item) => String(item[1]));
    return { running: ids(r.queue_running), pending: ids(r.queue_pending) };
  }

  /**
   * Takes our prompt off the server: /interrupt is global, so only when ours is the running one
   * (the prompt_id in the body makes newer servers check that too); a waiting one is deleted from
   * the queue. Never throws: clean-up must not hide the reason we are cleaning up.
   */
  async cancelPrompt(promptId: string): Promise<'interrupted' | 'deleted' | 'gone' | 'unknown'> {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    try {
      let q = await this.queue(signal);
      let did: 'interrupted' | 'deleted' | 'gone' = 'gone';
      if (q.pending.includes(promptId)) {
        await this.call('POST', '/queue', signal, { json: { delete: [promptId] } });
        did = 'deleted';
        q = await this.queue(signal); // it may have started between the two calls
      }
      if (q.running.includes(promptId)) {
        await this.call('POST', '/interrupt', signal, { json: { prompt_id: promptId } });
        did = 'interrupted';
      }
      return did;
    } catch {
      return 'unknown';
    }
  }

  /** GET /view into a file. */
  async download(ref: OutputRef, file: string, signal: AbortSignal): Promise<void> {
    const res = await this.call('GET', '/view', signal, { query: { filename: ref.filename, subfolder: ref.subfolder, type: ref.type } });
    await this.expectOk(res, 'view');
    if (!res.body) throw new GenerativeFailure('no_output', 'view: empty answer');
    let seen = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        cb(seen > MAX_RESULT_BYTES ? new GenerativeFailure('server_error', 'view: the result is larger than 1 GB') : null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), limit, createWriteStream(file), { signal });
    } catch (e) {
      await unlink(file).catch(() => {});
      if (signal.aborted) throw signal.reason;
      if (e instanceof GenerativeFailure) throw e;
      throw new GenerativeFailure('server_error', `view: the download broke off (${(e as Error).message})`, true, { cause: e });
    }
  }

  /**
   * Queues a workflow and waits for its video: progress from the websocket, /history polled every
   * `pollMs` as the backstop (the websocket may drop; it is reopened). On abort or timeout the prompt
   * is taken off the server before this rejects.
   */
  async run(o: RunOptions): Promise<RunResult> {
    const clientId = randomUUID();
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const signal = AbortSignal.any([o.signal, timeout]);
    const watcher = new PromptWatcher(this.wsUrl(clientId), this.WS, o.log);
    let promptId: string | null = null;
    try {
      await watcher.open(Math.min(this.opts.requestTimeoutMs, 5_000));
      signal.throwIfAborted();
      // Not abortable by the job: a cancel that lands while the POST is in flight must still learn the
      // prompt's id, or the prompt would run on the server with nobody to take it off (bounded by requestTimeoutMs).
      promptId = await this.submit(o.workflow, clientId, new AbortController().signal);
      signal.throwIfAborted();
      o.log?.info({ prompt_id: promptId }, 'prompt queued on the model server');
      const outcome = await this.waitFor(promptId, watcher, signal, o.onProgress);
      if (outcome.kind === 'failed') throw outcome.failure;
      const ref = pickVideo(outcome.entry);
      if (!ref) throw new GenerativeFailure('no_output', 'the prompt finished without a video in its outputs');
      const file = o.outputFile.replace(/\.[a-z0-9]+$/i, '') + path.extname(ref.filename).toLowerCase();
      await this.download(ref, file, signal);
      o.onProgress?.(1, 'downloaded');
      return { promptId, file };
    } catch (e) {
      if (promptId && signal.aborted) {
        const did = await this.cancelPrompt(promptId);
        o.log?.info({ prompt_id: promptId, cleanup: did }, 'prompt taken off the model server');
      }
      if (o.signal.aborted) throw o.signal.reason;
      if (timeout.aborted) throw new GenerativeFailure('timeout', `no result from the model server in ${o.timeoutMs} ms`, true, { cause: e });
      throw e;
    } finally {
      watcher.close();
    }
  }

  private wsUrl(clientId: string): string {
    const u = new URL(`${this.baseUrl.replace(/\/+$/, '')}/ws`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('clientId', clientId);
    return u.toString();
  }

  private waitFor(promptId: string, watcher: PromptWatcher, signal: AbortSignal, onProgress?: RunOptions['onProgress']): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      let settled = false;
      let polling = false;
      let pollErrors = 0;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        signal.removeEventListener('abort', onAbort);
        watcher.onMessage = null;
        f();
      };
      const check = async () => {
        if (polling || settled) return;
        polling = true;
        try {
          const entry = await this.history(promptId, signal);
          pollErrors = 0;
          const outcome = entry ? outcomeOf(entry) : null;
          if (outcome) finish(() => resolve(outcome));
        } catch (e) {
          // One failed poll is a blip; three in a row mean the server is gone.
          if (!signal.aborted && ++pollErrors >= 3) finish(() => reject(e));
        } finally {
          polling = false;
        }
        if (!settled) watcher.reopenIfClosed();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setInterval(() => void check(), this.opts.pollMs);
      watcher.onMessage = (m) => {
        const d = (m.data ?? {}) as Record<string, unknown>;
        if (d.prompt_id !== undefined && d.prompt_id !== promptId) return;
        if (m.type === 'progress' && typeof d.value === 'number' && typeof d.max === 'number' && d.max > 0) {
          onProgress?.(Math.min(0.95, (d.value / d.max) * 0.95), `step ${d.value}/${d.max}`);
        } else if (m.type === 'execution_error') {
          const msg = [d.exception_type, d.exception_message].filter(Boolean).join(': ') || 'execution error';
          finish(() =>
            resolve({
              kind: 'failed',
              failure: new GenerativeFailure(
                'execution_error',
                `the model server failed running the workflow (node ${String(d.node_id ?? '?')}: ${String(msg).slice(0, 300)})`,
              ),
            }),
          );
        } else if (m.type === 'execution_interrupted') {
          finish(() => resolve({ kind: 'failed', failure: new GenerativeFailure('interrupted', 'the prompt was interrupted on the model server') }));
        } else if (m.type === 'execution_success' || (m.type === 'executing' && d.node === null && d.prompt_id === promptId)) {
          void check(); // the outputs are in /history
        }
      };
      void check();
    });
  }
}

/** The outcome a /history entry tells, or null while the prompt has not finished. Pure. */
export function outcomeOf(entry: HistoryEntry): Outcome | null {
  const st = entry.status;
  if (st?.status_str === 'error') {
    const msgs = st.messages ?? [];
    if (msgs.some(([k]) => k === 'execution_interrupted'))
      return { kind: 'failed', failure: new GenerativeFailure('interrupted', 'the prompt was interrupted on the model server') };
    const err = msgs.find(([k]) => k === 'execution_error')?.[1];
    const text = err ? [err.exception_type, err.exception_message].filter(Boolean).join(': ') : 'unknown error';
    return {
      kind: 'failed',
      failure: new GenerativeFailure('execution_error', `the model server failed running the workflow (${String(text).slice(0, 300)})`),
    };
  }
  if (st?.completed || st?.status_str === 'success' || (st === undefined && entry.outputs && Object.keys(entry.outputs).length > 0))
    return { kind: 'done', entry };
  return null;
}

/** The first video among a history entry's outputs (SaveVideo lists it under images, VHS under gifs). Pure. */
export function pickVideo(entry: HistoryEntry): OutputRef | null {
  for (const node of Object.values(entry.outputs ?? {})) {
    for (const key of ['videos', 'gifs', 'images']) {
      const list = node[key];
      if (!Array.isArray(list)) continue;
      for (const item of list as Array<Partial<OutputRef>>) {
        if (item && typeof item.filename === 'string' && VIDEO_EXT.test(item.filename) && item.type !== 'temp')
          return { filename: item.filename, subfolder: item.subfolder ?? '', type: item.type ?? 'output' };
      }
    }
  }
  return null;
}

function describeRefusal(r: {
  error?: { message?: string; details?: string } | string;
  node_errors?: Record<string, { errors?: Array<{ message?: string; details?: string }>; class_type?: string }>;
}): string {
  const head = typeof r.error === 'string' ? r.error : [r.error?.message, r.error?.details].filter(Boolean).join(': ');
  const nodes = Object.entries(r.node_errors ?? {})
    .slice(0, 3)
    .map(([id, n]) => `node ${id} (${n.class_type ?? '?'}): ${(n.errors ?? []).map((e) => [e.message, e.details].filter(Boolean).join(' ')).join('; ')}`);
  return [head || 'invalid prompt', ...nodes].join(' | ').slice(0, 500);
}

/** The websocket of one client id; a dropped one is reopened on the next poll tick. */
class PromptWatcher {
  onMessage: ((m: { type: string; data?: unknown }) => void) | null = null;
  private ws: WebSocket | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly WS: WebSocketCtor,
    private readonly log?: RunOptions['log'],
  ) {}

  /** Opens the socket; resolves when open or when it could not be opened (polling carries on alone). */
  open(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let ws: WebSocket;
      try {
        ws = new this.WS(this.url);
      } catch (e) {
        this.log?.warn({ err: (e as Error).message }, 'model server websocket could not be opened; polling /history');
        resolve();
        return;
      }
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      const t = setTimeout(() => resolve(), timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(t);
        resolve();
      });
      ws.addEventListener('error', () => {
        clearTimeout(t);
        resolve();
      });
      ws.addEventListener('close', () => {
        clearTimeout(t);
        resolve();
        if (!this.closed) this.log?.warn({}, 'model server websocket closed; polling /history and reopening');
      });
      ws.addEventListener('message', (ev: MessageEvent) => {
        if (typeof ev.data !== 'string') return; // binary frames are previews
        let m: { type?: unknown; data?: unknown };
        try {
          m = JSON.parse(ev.data) as typeof m;
        } catch {
          return;
        }
        if (typeof m.type === 'string') this.onMessage?.({ type: m.type, data: m.data });
      });
    });
  }

  reopenIfClosed(): void {
    if (this.closed || !this.ws || this.ws.readyState === this.WS.OPEN || this.ws.readyState === this.WS.CONNECTING) return;
    void this.open(5_000);
  }

  close(): void {
    this.closed = true;
    try {
      this.ws?.close();
    } catch {
      /* already closed */
    }
  }
}
