// ============================================================================================
//  TEST DOUBLE — NOT A MODEL SERVER.  A stand-in for ComfyUI used by the tests only.
// ============================================================================================
// It speaks the parts of ComfyUI's HTTP and websocket API that the generative transition provider
// uses (POST /upload/image, POST /prompt, GET /history/{id}, GET /view, GET|POST /queue,
// POST /interrupt, GET /system_stats, WS /ws?clientId=; every route also under /api), checks the
// workflow the way ComfyUI does (400 with node_errors), and "generates" with ffmpeg: a plain
// crossfade from the first uploaded image to the second, `length` frames at the workflow's fps.
//
// Each prompt takes the next behaviour from a plan (POST /_standin/plan {"behaviours": [...]}, or
// the COMFY_STANDIN_PLAN env, comma-separated); when the plan is empty it behaves (`ok`). The
// behaviours are the ways a real server fails:
//   ok            a good clip
//   refuse        400 {error, node_errors} (e.g. a model file missing)
//   http_500      500 from POST /prompt
//   queue_stuck   accepted, then stays pending for ever (only a queue deletion removes it)
//   hang          runs, then hangs until POST /interrupt
//   drop_ws       drops the client's websocket mid-run, then finishes normally
//   exec_error    runs, then fails with execution_error (like out of memory)
//   wrong_frames  a clip with 32 frames fewer than asked
//   black         a clip with a black stretch in the middle
//   mismatch_end  a clip that ends on a different picture than the second image
//   frozen        a clip that never moves
// GET /_standin/state tells what happened (prompts with their behaviour and outcome, interrupts,
// queue deletions); POST /_standin/health {"ok": false} makes /system_stats answer 500.
//
// Run alone: `npx tsx tests/comfy-standin/test-double-comfyui.ts [port]` (from /work/main).
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { type WebSocket, WebSocketServer } from 'ws';

export const BEHAVIOURS = [
  'ok',
  'refuse',
  'http_500',
  'queue_stuck',
  'hang',
  'drop_ws',
  'exec_error',
  'wrong_frames',
  'black',
  'mismatch_end',
  'frozen',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

type Node = { class_type: string; inputs: Record<string, unknown> };
type Workflow = Record<string, Node>;

interface Prompt {
  id: string;
  number: number;
  clientId: string;
  workflow: Workflow;
  behaviour: Behaviour;
  state: 'pending' | 'running' | 'success' | 'error' | 'interrupted' | 'deleted';
  parked: boolean;
  history?: Record<string, unknown>;
  interrupt?: () => void;
}

export interface StandinState {
  prompts: Array<{ id: string; behaviour: Behaviour; state: Prompt['state']; seed: unknown; width: unknown; height: unknown; length: unknown }>;
  interrupts: string[];
  deletions: string[];
  /** Every POST /prompt: the behaviour it drew and the status it got. */
  submissions: Array<{ behaviour: Behaviour; status: number; prompt_id: string | null }>;
  uploads: number;
  requests: number;
  plan: Behaviour[];
}

export class ComfyStandin {
  private server?: http.Server;
  private wss = new WebSocketServer({ noServer: true });
  private sockets = new Map<string, Set<WebSocket>>();
  private prompts: Prompt[] = [];
  private planned: Behaviour[] = [];
  private counter = 0;
  private running: Prompt | null = null;
  private wake: () => void = () => {};
  private stopped = false;
  private healthy = true;
  /** Delay of the next POST /prompt answer (the prompt is queued and may run meanwhile). */
  private answerDelayMs = 0;
  private interrupts: string[] = [];
  private deletions: string[] = [];
  private submissions: StandinState['submissions'] = [];
  private uploads = 0;
  private requests = 0;
  dir = '';
  url = '';

  constructor(private readonly opts: { steps?: number; stepMs?: number; plan?: Behaviour[] } = {}) {
    this.planned = [...(opts.plan ?? [])];
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'comfy-standin-'));
    await mkdir(path.join(this.dir, 'input'), { recursive: true });
    await mkdir(path.join(this.dir, 'output'), { recursive: true });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, { error: String((e as Error)?.message ?? e) });
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname !== '/ws' && u.pathname !== '/api/ws') return socket.destroy();
      const clientId = u.searchParams.get('clientId') ?? randomUUID().replace(/-/g, '');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const set = this.sockets.get(clientId) ?? new Set();
        set.add(ws);
        this.sockets.set(clientId, set);
        ws.on('close', () => set.delete(ws));
        ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: this.queueRemaining() } }, sid: clientId } }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, host, r));
    const a = this.server.address() as AddressInfo;
    this.url = `http://${host}:${a.port}`;
    void this.executor();
    return this.url;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.running?.interrupt?.();
    this.wake();
    for (const set of this.sockets.values()) for (const ws of set) ws.terminate();
    this.wss.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** The next POST /prompt is answered `ms` late, after its prompt has been queued: a client aborted meanwhile has no id yet. */
  delayNextAnswer(ms: number): void {
    this.answerDelayMs = ms;
  }

  /** Behaviours for the next prompts, in order (appended to what is planned already). */
  plan(...behaviours: Behaviour[]): void {
    this.planned.push(...behaviours);
  }

  state(): StandinState {
    return {
      prompts: this.prompts.map((p) => {
        const wan = Object.values(p.workflow).find((n) => n.class_type === 'WanFirstLastFrameToVideo')?.inputs ?? {};
        const seed = Object.values(p.workflow).find((n) => n.class_type === 'KSampler')?.inputs.seed;
        return { id: p.id, behaviour: p.behaviour, state: p.state, seed, width: wan.width, height: wan.height, length: wan.length };
      }),
      interrupts: [...this.interrupts],
      deletions: [...this.deletions],
      submissions: [...this.submissions],
      uploads: this.uploads,
      requests: this.requests,
      plan: [...this.planned],
    };
  }

  setHealthy(ok: boolean): void {
    this.healthy = ok;
  }

  private queueRemaining(): number {
    return this.prompts.filter((p) => p.state === 'pending' || p.state === 'running').length;
  }

  private broadcast(clientId: string | null, type: string, data: unknown): void {
    const msg = JSON.stringify({ type, data });
    const targets = clientId ? [this.sockets.get(clientId) ?? new Set<WebSocket>()] : [...this.sockets.values()];
    for (const set of targets) for (const ws of set) if (ws.readyState === ws.OPEN) ws.send(msg);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.requests++;
    const u = new URL(req.url ?? '/', 'http://x');
    const p = u.pathname.startsWith('/api/') ? u.pathname.slice(4) : u.pathname;
    const m = req.method ?? 'GET';

    if (m === 'GET' && p === '/system_stats') {
      if (!this.healthy) return send(res, 500, { error: 'unhealthy (test double told so)' });
      return send(res, 200, {
        system: {
          os: process.platform,
          comfyui_version: 'TEST-DOUBLE',
          python_version: 'none',
          embedded_python: false,
          ram_total: os.totalmem(),
          ram_free: os.freemem(),
        },
        devices: [{ name: 'cpu (test double)', type: 'cpu', index: null, vram_total: 0, vram_free: 0, torch_vram_total: 0, torch_vram_free: 0 }],
      });
    }
    if (m === 'POST' && p === '/upload/image') {
      const form = await new Request('http://x/upload', {
        method: 'POST',
        headers: req.headers as Record<string, string>,
        body: Readable.toWeb(req) as ReadableStream,
        duplex: 'half',
      } as RequestInit).formData();
      const file = form.get('image');
      if (!(file instanceof File)) return send(res, 400, 'no image');
      const name = path.basename(file.name || `upload-${randomUUID()}.png`);
      const sub = String(form.get('subfolder') ?? '').replace(/\.\./g, '');
      await mkdir(path.join(this.dir, 'input', sub), { recursive: true });
      await writeFile(path.join(this.dir, 'input', sub, name), Buffer.from(await file.arrayBuffer()));
      this.uploads++;
      return send(res, 200, { name, subfolder: sub, type: 'input' });
    }
    if (m === 'POST' && p === '/prompt') return this.queuePrompt(await readJson(req), res);
    if (m === 'GET' && p.startsWith('/history')) {
      const id = decodeURIComponent(p.slice('/history/'.length));
      const done = this.prompts.filter((x) => x.history && (!id || x.id === id));
      return send(res, 200, Object.fromEntries(done.map((x) => [x.id, x.history])));
    }
    if (m === 'GET' && p === '/queue') {
      const item = (x: Prompt) => [x.number, x.id, x.workflow, { client_id: x.clientId }, ['16']];
      return send(res, 200, {
        queue_running: this.running ? [item(this.running)] : [],
        queue_pending: this.prompts.filter((x) => x.state === 'pending').map(item),
      });
    }
    if (m === 'POST' && p === '/queue') {
      const body = (await readJson(req)) as { delete?: string[]; clear?: boolean };
      for (const x of this.prompts) {
        if (x.state === 'pending' && (body.clear || body.delete?.includes(x.id))) {
          x.state = 'deleted';
          this.deletions.push(x.id);
        }
      }
      return send(res, 200, {});
    }
    if (m === 'POST' && p === '/interrupt') {
      const body = (await readJson(req).catch(() => ({}))) as { prompt_id?: string };
      const r = this.running;
      if (r && (!body.prompt_id || body.prompt_id === r.id)) {
        this.interrupts.push(r.id);
        r.interrupt?.();
      }
      return send(res, 200, {});
    }
    if (m === 'GET' && p === '/view') {
      const name = u.searchParams.get('filename') ?? '';
      const sub = u.searchParams.get('subfolder') ?? '';
      const type = u.searchParams.get('type') ?? 'output';
      if (!name || name.includes('..') || sub.includes('..') || name.startsWith('/') || !['output', 'input', 'temp'].includes(type))
        return send(res, 400, 'bad name');
      const file = path.join(this.dir, type, sub, name);
      const st = await stat(file).catch(() => null);
      if (!st) return send(res, 404, 'not found');
      res.writeHead(200, { 'content-type': name.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream', 'content-length': st.size });
      createReadStream(file).pipe(res);
      return;
    }
    if (m === 'GET' && p.startsWith('/object_info')) return send(res, 200, {});
    if (m === 'POST' && p === '/free') return send(res, 200, {});
    // ---- control endpoints of the test double ----
    if (m === 'POST' && p === '/_standin/plan') {
      const body = (await readJson(req)) as { behaviours?: string[]; replace?: boolean };
      const bad = (body.behaviours ?? []).filter((b) => !BEHAVIOURS.includes(b as Behaviour));
      if (bad.length) return send(res, 400, { error: `unknown behaviour(s) ${bad.join(', ')}` });
      if (body.replace) this.planned = [];
      this.plan(...((body.behaviours ?? []) as Behaviour[]));
      return send(res, 200, this.state());
    }
    if (m === 'GET' && p === '/_standin/state') return send(res, 200, this.state());
    if (m === 'POST' && p === '/_standin/health') {
      this.healthy = Boolean(((await readJson(req)) as { ok?: boolean }).ok);
      return send(res, 200, { ok: this.healthy });
    }
    return send(res, 404, 'not found');
  }

  private queuePrompt(body: unknown, res: http.ServerResponse): void {
    const b = body as { prompt?: Workflow; client_id?: string; prompt_id?: string };
    const behaviour = this.planned.shift() ?? 'ok';
    const submission: StandinState['submissions'][number] = { behaviour, status: 200, prompt_id: null };
    this.submissions.push(submission);
    const refuse = (status: number, body: unknown): void => {
      submission.status = status;
      send(res, status, body);
    };
    if (behaviour === 'http_500') {
      refuse(500, '500 Internal Server Error (test double)');
      return;
    }
    if (behaviour === 'refuse') {
      refuse(400, {
        error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
        node_errors: {
          '1': {
            errors: [
              {
                type: 'value_not_in_list',
                message: 'Value not in list',
                details: "unet_name: 'wan2.1_flf2v_720p_14B_fp16.safetensors' not in [] (test double)",
                extra_info: {},
              },
            ],
            dependent_outputs: ['16'],
            class_type: 'UNETLoader',
          },
        },
      });
      return;
    }
    const errors = validateWorkflow(b.prompt, path.join(this.dir, 'input'));
    if (typeof errors === 'string') {
      refuse(400, { error: { type: 'invalid_prompt', message: errors, details: '', extra_info: {} }, node_errors: {} });
      return;
    }
    if (Object.keys(errors).length) {
      refuse(400, {
        error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
        node_errors: errors,
      });
      return;
    }
    const id = b.prompt_id ?? randomUUID();
    submission.prompt_id = id;
    const p: Prompt = {
      id,
      number: this.counter++,
      clientId: b.client_id ?? '',
      workflow: b.prompt!,
      behaviour,
      state: 'pending',
      parked: behaviour === 'queue_stuck',
    };
    this.prompts.push(p);
    const delay = this.answerDelayMs;
    this.answerDelayMs = 0;
    setTimeout(() => send(res, 200, { prompt_id: id, number: p.number, node_errors: {} }), delay);
    this.broadcast(null, 'status', { status: { exec_info: { queue_remaining: this.queueRemaining() } } });
    this.wake();
  }

  /** Runs pending prompts one at a time, like ComfyUI's single execution thread. */
  private async executor(): Promise<void> {
    while (!this.stopped) {
      const next = this.prompts.find((x) => x.state === 'pending' && !x.parked);
      if (!next) {
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 200);
        });
        continue;
      }
      this.running = next;
      next.state = 'running';
      try {
        await this.execute(next);
      } catch (e) {
        this.finish(next, 'error', [
          [
            'execution_error',
            {
              prompt_id: next.id,
              node_id: '14',
              node_type: 'VAEDecode',
              exception_type: 'RuntimeError',
              exception_message: String((e as Error).message).slice(0, 500),
            },
          ],
        ]);
      }
      this.running = null;
      this.broadcast(null, 'status', { status: { exec_info: { queue_remaining: this.queueRemaining() } } });
    }
  }

  private async execute(p: Prompt): Promise<void> {
    const cid = p.clientId;
    const steps = this.opts.steps ?? 5;
    const stepMs = this.opts.stepMs ?? 60;
    let interrupted = false;
    let onInterrupt = () => {};
    p.interrupt = () => {
      interrupted = true;
      onInterrupt();
    };
    const pause = (ms: number) =>
      new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        onInterrupt = () => {
          clearTimeout(t);
          r();
        };
      });
    const started = Date.now();
    this.broadcast(cid, 'execution_start', { prompt_id: p.id, timestamp: started });
    this.broadcast(cid, 'execution_cached', { nodes: [], prompt_id: p.id, timestamp: started });
    const nodes = Object.entries(p.workflow);
    const sampler = nodes.find(([, n]) => n.class_type === 'KSampler')?.[0] ?? '13';
    for (const [id] of nodes) {
      this.broadcast(cid, 'executing', { node: id, display_node: id, prompt_id: p.id });
      if (id !== sampler) continue;
      for (let v = 1; v <= steps && !interrupted; v++) {
        await pause(stepMs);
        this.broadcast(cid, 'progress', { value: v, max: steps, prompt_id: p.id, node: id });
        if (p.behaviour === 'drop_ws' && v === 2) for (const ws of this.sockets.get(cid) ?? []) ws.terminate();
        if (p.behaviour === 'hang' && v === 2) while (!interrupted && !this.stopped) await pause(60_000);
        if (p.behaviour === 'exec_error' && v === 3) {
          const err = {
            prompt_id: p.id,
            node_id: id,
            node_type: 'KSampler',
            exception_type: 'torch.OutOfMemoryError',
            exception_message: 'Allocation on device would exceed allowed memory (test double)',
            traceback: [],
          };
          this.broadcast(cid, 'execution_error', err);
          this.finish(p, 'error', [
            ['execution_start', { prompt_id: p.id }],
            ['execution_error', err],
          ]);
          return;
        }
      }
      if (interrupted) break;
    }
    if (interrupted) {
      const data = { prompt_id: p.id, node_id: sampler, node_type: 'KSampler', executed: [] };
      this.broadcast(cid, 'execution_interrupted', data);
      this.finish(p, 'interrupted', [
        ['execution_start', { prompt_id: p.id }],
        ['execution_interrupted', data],
      ]);
      return;
    }
    const out = await this.render(p);
    const save = nodes.find(([, n]) => n.class_type === 'SaveVideo')?.[0] ?? '16';
    const output = { images: [{ filename: out.filename, subfolder: out.subfolder, type: 'output' }], animated: [true] };
    this.broadcast(cid, 'executed', { node: save, display_node: save, output, prompt_id: p.id });
    p.history = {
      prompt: [p.number, p.id, p.workflow, { client_id: cid }, [save]],
      outputs: { [save]: output },
      status: {
        status_str: 'success',
        completed: true,
        messages: [
          ['execution_start', { prompt_id: p.id }],
          ['execution_success', { prompt_id: p.id }],
        ],
      },
      meta: { [save]: { node_id: save, display_node: save } },
    };
    p.state = 'success';
    this.broadcast(cid, 'execution_success', { prompt_id: p.id, timestamp: Date.now() });
    this.broadcast(cid, 'executing', { node: null, prompt_id: p.id });
  }

  private finish(p: Prompt, state: 'error' | 'interrupted', messages: Array<[string, unknown]>): void {
    p.state = state;
    p.history = {
      prompt: [p.number, p.id, p.workflow, { client_id: p.clientId }, []],
      outputs: {},
      status: { status_str: 'error', completed: false, messages },
    };
  }

  /** The "model": ffmpeg crossfades image A into image B (or misbehaves as planned). */
  private async render(p: Prompt): Promise<{ filename: string; subfolder: string }> {
    const nodes = Object.values(p.workflow);
    const loads = Object.entries(p.workflow).filter(([, n]) => n.class_type === 'LoadImage');
    const wan = nodes.find((n) => n.class_type === 'WanFirstLastFrameToVideo')!.inputs;
    const byId = (link: unknown) => p.workflow[String((link as unknown[])[0])]?.inputs.image as string;
    const a = path.join(this.dir, 'input', byId(wan.start_image) ?? (loads[0]![1].inputs.image as string));
    const b = path.join(this.dir, 'input', byId(wan.end_image) ?? (loads[1]![1].inputs.image as string));
    const W = Number(wan.width);
    const H = Number(wan.height);
    const fps = Number(nodes.find((n) => n.class_type === 'CreateVideo')?.inputs.fps ?? 16);
    const L = Number(wan.length) - (p.behaviour === 'wrong_frames' ? 32 : 0);
    const prefix = String(nodes.find((n) => n.class_type === 'SaveVideo')?.inputs.filename_prefix ?? 'ComfyUI');
    const subfolder = path.dirname(prefix) === '.' ? '' : path.dirname(prefix);
    const filename = `${path.basename(prefix)}_${String(p.number).padStart(5, '0')}_.mp4`;
    await mkdir(path.join(this.dir, 'output', subfolder), { recursive: true });
    // Each image is decoded once and looped; xfade's fade runs from exactly A (frame 0) to exactly B (frame L-1).
    const still = (i: number) => `[${i}]scale=${W}:${H},setsar=1,format=yuv420p,loop=loop=-1:size=1,setpts=N/${fps}/TB,trim=end_frame=${L + 1}`;
    // mismatch_end: the model "forgets" the end image and drifts back to a mirrored first image.
    const fade = `xfade=transition=fade:duration=${(Math.max(1, L - 1) / fps).toFixed(6)}:offset=0`;
    let graph = `${still(0)}[a];${still(1)}[b];[a][b]${fade}[m];[m]`;
    if (p.behaviour === 'mismatch_end') graph = `${still(0)},split[a][a2];[a2]hflip[b];[a][b]${fade}[m];[1]nullsink;[m]`;
    if (p.behaviour === 'frozen') graph = `${still(0)}[m];[1]nullsink;[m]`;
    graph +=
      p.behaviour === 'black'
        ? `drawbox=c=black:t=fill:enable='between(n,${Math.round(L * 0.4)},${Math.round(L * 0.6)})',format=yuv420p[v]`
        : 'format=yuv420p[v]';
    // biome-ignore format: ffmpeg arguments grouped by option
    await execa('ffmpeg', [
      '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
      '-i', a,
      '-i', b,
      '-filter_complex', graph, '-map', '[v]', '-frames:v', String(L),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '14', '-r', String(fps),
      path.join(this.dir, 'output', subfolder, filename),
    ]);
    return { filename, subfolder };
  }
}

/** ComfyUI-style checks of a workflow: a string for a malformed prompt, else node_errors (empty = fine). */
function validateWorkflow(w: Workflow | undefined, inputDir: string): string | Record<string, unknown> {
  if (!w || typeof w !== 'object') return 'no prompt';
  const errors: Record<string, unknown> = {};
  const err = (id: string, n: Node, message: string, details: string) => {
    errors[id] = { errors: [{ type: 'invalid_input', message, details, extra_info: {} }], dependent_outputs: [], class_type: n.class_type };
  };
  for (const [id, n] of Object.entries(w)) {
    if (!n || typeof n.class_type !== 'string' || typeof n.inputs !== 'object') return `node ${id} has no class_type/inputs`;
    for (const [k, v] of Object.entries(n.inputs)) {
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !w[v[0]]) err(id, n, 'Bad link', `${k} links to missing node ${v[0]}`);
      if (typeof v === 'string' && /\{\{.*\}\}/.test(v)) err(id, n, 'Unfilled placeholder', `${k}: ${v}`);
    }
    const i = n.inputs;
    if (n.class_type === 'LoadImage') {
      const f = path.join(inputDir, String(i.image));
      if (String(i.image).includes('..') || !existsSync(f)) err(id, n, 'Invalid image file', `image: ${String(i.image)}`);
    }
    if (n.class_type === 'WanFirstLastFrameToVideo') {
      for (const k of ['width', 'height'])
        if (!Number.isInteger(i[k]) || (i[k] as number) % 16 !== 0) err(id, n, 'Value not a multiple of 16', `${k}: ${String(i[k])}`);
      if (!Number.isInteger(i.length) || (i.length as number) % 4 !== 1) err(id, n, 'Length must be 4n+1', `length: ${String(i.length)}`);
    }
    if (n.class_type === 'KSampler' && (!Number.isInteger(i.seed) || (i.seed as number) < 0 || (i.seed as number) > 2 ** 64))
      err(id, n, 'Bad seed', `seed: ${String(i.seed)}`);
    if (n.class_type === 'CreateVideo' && !(Number(i.fps) > 0)) err(id, n, 'Bad fps', `fps: ${String(i.fps)}`);
  }
  if (!Object.values(w).some((n) => n.class_type === 'WanFirstLastFrameToVideo'))
    return 'no WanFirstLastFrameToVideo node (the test double only makes first/last-frame clips)';
  if (!Object.values(w).some((n) => n.class_type === 'SaveVideo')) return 'Prompt has no outputs';
  return errors;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const t = Buffer.concat(chunks).toString('utf8');
  return t ? JSON.parse(t) : {};
}

// Started directly: serve on the given port (default 8188) until killed.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const plan = (process.env.COMFY_STANDIN_PLAN ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as Behaviour[];
  const s = new ComfyStandin({ plan, stepMs: Number(process.env.COMFY_STANDIN_STEP_MS ?? 60) });
  const url = await s.start(Number(process.argv[2] ?? 8188), process.env.COMFY_STANDIN_HOST ?? '127.0.0.1');
  console.log(`TEST DOUBLE of ComfyUI listening on ${url} (not a model server)`);
  const stop = () => void s.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await sleep(2 ** 31 - 1);
}
