// The client against the ComfyUI TEST DOUBLE, in-process: cancel and timeout take the prompt off the
// server (interrupt when running, queue deletion when waiting), refusals are not retryable.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '@mt/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyStandin } from '../../../tests/comfy-standin/test-double-comfyui.js';
import { ComfyClient, outcomeOf, pickVideo } from './comfy-client.js';
import { DEFAULT_WORKFLOW } from './generative-config.js';
import { GenerativeFailure } from './generative-errors.js';
import { fillWorkflow, loadWorkflowTemplate, type Workflow } from './workflow.js';

const standin = new ComfyStandin({ steps: 4, stepMs: 30 });
let client: ComfyClient;
let dir: string;
let workflow: Workflow;

beforeAll(async () => {
  const url = await standin.start();
  client = new ComfyClient(url, { requestTimeoutMs: 2_000, pollMs: 100 });
  dir = await mkdtemp(path.join(tmpdir(), 'mt-comfy-'));
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=1', '-frames:v', '1', path.join(dir, 'a.png')]);
  await runFfmpeg(['-f', 'lavfi', '-i', 'mandelbrot=s=320x180:r=1', '-frames:v', '1', path.join(dir, 'b.png')]);
  const [a, b] = [
    await client.upload(path.join(dir, 'a.png'), 'a.png', AbortSignal.timeout(5_000)),
    await client.upload(path.join(dir, 'b.png'), 'b.png', AbortSignal.timeout(5_000)),
  ];
  workflow = fillWorkflow(await loadWorkflowTemplate(DEFAULT_WORKFLOW), {
    image_a: a,
    image_b: b,
    width: 160,
    height: 96,
    length: 17,
    fps: 16,
    seed: 1,
    seconds: 6,
    prefix: 'unit',
  });
});
afterAll(async () => {
  await standin.stop();
  await rm(dir, { recursive: true, force: true });
});

const run = (signal: AbortSignal, timeoutMs = 5_000) => client.run({ workflow, outputFile: path.join(dir, 'out.mp4'), signal, timeoutMs });

describe('ComfyClient', () => {
  it('runs a prompt and downloads its video, reporting progress', async () => {
    const seen: number[] = [];
    const r = await client.run({
      workflow,
      outputFile: path.join(dir, 'ok.mp4'),
      signal: new AbortController().signal,
      timeoutMs: 10_000,
      onProgress: (f) => seen.push(f),
    });
    expect(r.file).toBe(path.join(dir, 'ok.mp4'));
    expect(seen.at(-1)).toBe(1);
    expect(seen.some((f) => f > 0 && f < 1)).toBe(true);
    expect((await client.systemStats(AbortSignal.timeout(1_000))).system).toBeDefined();
  });

  it('interrupts its running prompt when aborted', async () => {
    standin.plan('hang');
    const ac = new AbortController();
    const p = run(ac.signal);
    while (!standin.state().prompts.some((x) => x.state === 'running')) await new Promise((r) => setTimeout(r, 20));
    ac.abort(new Error('job canceled'));
    await expect(p).rejects.toThrow('job canceled');
    const s = standin.state();
    expect(s.interrupts).toHaveLength(1);
    expect(s.prompts.at(-1)!.state).toBe('interrupted');
  });

  it('interrupts its prompt when aborted before the server has answered the submission', async () => {
    standin.plan('hang');
    standin.delayNextAnswer(400);
    const ac = new AbortController();
    const p = run(ac.signal);
    while (!standin.state().prompts.some((x) => x.state === 'running')) await new Promise((r) => setTimeout(r, 10));
    ac.abort(new Error('job canceled'));
    await expect(p).rejects.toThrow('job canceled');
    expect(standin.state().prompts.at(-1)!.state).toBe('interrupted');
  });

  it('deletes its prompt from the queue when it never starts (timeout)', async () => {
    standin.plan('queue_stuck');
    const e = await run(new AbortController().signal, 600).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GenerativeFailure);
    expect((e as GenerativeFailure).reason).toBe('timeout');
    expect(standin.state().deletions).toEqual([standin.state().prompts.at(-1)!.id]);
  });

  it('reports a refusal as not retryable, a 500 as retryable', async () => {
    standin.plan('refuse', 'http_500');
    const refused = (await run(new AbortController().signal).catch((x: unknown) => x)) as GenerativeFailure;
    expect([refused.reason, refused.retryable]).toEqual(['refused', false]);
    expect(refused.message).toMatch(/UNETLoader/);
    const five = (await run(new AbortController().signal).catch((x: unknown) => x)) as GenerativeFailure;
    expect([five.reason, five.retryable]).toEqual(['server_error', true]);
  });

  it('says unavailable when nothing listens', async () => {
    const gone = new ComfyClient('http://127.0.0.1:9', { requestTimeoutMs: 1_000, pollMs: 100 });
    const e = (await gone.systemStats(AbortSignal.timeout(2_000)).catch((x: unknown) => x)) as GenerativeFailure;
    expect(e.reason).toBe('unavailable');
  });
});

describe('reading /history', () => {
  it('finds the video under images (SaveVideo), gifs (VHS) or videos, skipping temp previews', () => {
    expect(
      pickVideo({
        outputs: {
          '9': { images: [{ filename: 'p.png', subfolder: '', type: 'temp' }] },
          '16': { images: [{ filename: 'x_00001_.mp4', subfolder: 'mt', type: 'output' }] },
        },
      }),
    ).toEqual({ filename: 'x_00001_.mp4', subfolder: 'mt', type: 'output' });
    expect(pickVideo({ outputs: { '3': { gifs: [{ filename: 'v.webm', subfolder: '', type: 'output' }] } } })?.filename).toBe('v.webm');
    expect(pickVideo({ outputs: { '3': { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } } })).toBeNull();
  });
  it('tells success, errors and interruptions apart', () => {
    expect(outcomeOf({ status: { status_str: 'success', completed: true }, outputs: {} })?.kind).toBe('done');
    expect(outcomeOf({ status: { status_str: 'error', messages: [['execution_interrupted', {}]] } })).toMatchObject({
      kind: 'failed',
      failure: { reason: 'interrupted' },
    });
    expect(outcomeOf({ status: { status_str: 'error', messages: [['execution_error', { exception_message: 'OOM' }]] } })).toMatchObject({
      kind: 'failed',
      failure: { reason: 'execution_error' },
    });
    expect(outcomeOf({ status: { status_str: 'running', completed: false } })).toBeNull();
  });
});
