import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKFLOW, readGenerativeConfig } from './generative-config.js';
import {
  attemptSeed,
  checkTemplate,
  fillWorkflow,
  generationSize,
  loadWorkflowTemplate,
  placeholdersOf,
  type Workflow,
  WorkflowTemplateError,
} from './workflow.js';

const values = { image_a: 'mt-1-a.png', image_b: 'mt-1-b.png', width: 1280, height: 720, length: 81, fps: 16, seed: 42, seconds: 6, prefix: 'mt-1' };

describe('the shipped Wan2.1 FLF2V template', () => {
  it('loads, and filling it leaves no placeholder and types every value', async () => {
    const t = await loadWorkflowTemplate(DEFAULT_WORKFLOW);
    const w = fillWorkflow(t, values);
    expect(placeholdersOf(w).size).toBe(0);
    const node = (cls: string) => Object.values(w).find((n) => n.class_type === cls)!;
    expect(node('WanFirstLastFrameToVideo').inputs).toMatchObject({ width: 1280, height: 720, length: 81, start_image: ['5', 0], end_image: ['6', 0] });
    expect(node('KSampler').inputs.seed).toBe(42);
    expect(node('CreateVideo').inputs.fps).toBe(16);
    expect(node('SaveVideo').inputs.filename_prefix).toBe('memorialtube/mt-1');
    expect(node('SaveVideo')._meta?.title).toContain('6 s');
    expect(
      Object.values(w)
        .filter((n) => n.class_type === 'LoadImage')
        .map((n) => n.inputs.image),
    ).toEqual(['mt-1-a.png', 'mt-1-b.png']);
    // Every link points at a node that exists.
    for (const n of Object.values(w)) for (const v of Object.values(n.inputs)) if (Array.isArray(v)) expect(w[v[0] as string]).toBeDefined();
  });

  it('does not change the template it was filled from', async () => {
    const t = await loadWorkflowTemplate(DEFAULT_WORKFLOW);
    const before = JSON.stringify(t);
    fillWorkflow(t, values);
    expect(JSON.stringify(t)).toBe(before);
  });
});

describe('checkTemplate', () => {
  const ok: Workflow = {
    '1': { class_type: 'LoadImage', inputs: { image: '{{image_a}}' } },
    '2': { class_type: 'LoadImage', inputs: { image: '{{ image_b }}' } },
    '3': { class_type: 'X', inputs: { width: '{{width}}', height: '{{height}}', length: '{{length}}', seed: '{{seed}}', a: ['1', 0] } },
  };
  it('accepts a minimal template (spaces inside braces allowed)', () => expect(checkTemplate(ok)).toBe(ok));
  it.each([
    [[], /JSON object of nodes/],
    [{}, /no nodes/],
    [{ last_node_id: 3, nodes: [] }, /class_type and inputs.*Save \(API\)/],
    [{ ...ok, '4': { class_type: 'Y', inputs: { v: '{{colour}}' } } }, /unknown placeholder.*\{\{colour\}\}/],
    [{ '1': ok['1'], '3': ok['3'] }, /never uses \{\{image_b\}\}/],
  ])('refuses %j', (t, msg) => {
    expect(() => checkTemplate(t)).toThrow(WorkflowTemplateError);
    expect(() => checkTemplate(t)).toThrow(msg);
  });
  it('names the file when loading fails', async () => {
    await expect(loadWorkflowTemplate('/nope/wf.json')).rejects.toThrow(/\/nope\/wf\.json/);
    await expect(loadWorkflowTemplate(path.resolve('package.json'))).rejects.toThrow(/package\.json: .*class_type/);
  });
});

describe('fillWorkflow', () => {
  it('puts numbers for whole-string placeholders and text inside longer strings', () => {
    const w = fillWorkflow({ a: { class_type: 'T', inputs: { n: '{{seed}}', s: 'x-{{seed}}-{{prefix}}', keep: 3, list: ['{{width}}', 1] } } }, values);
    expect(w.a!.inputs).toEqual({ n: 42, s: 'x-42-mt-1', keep: 3, list: [1280, 1] });
  });
});

describe('sizes, lengths and seeds', () => {
  it.each([
    [{ width: 1280, height: 720 }, 1280, { width: 1280, height: 720 }],
    [{ width: 1920, height: 1080 }, 1280, { width: 1280, height: 720 }],
    [{ width: 1920, height: 1080 }, 1920, { width: 1920, height: 1088 }],
    [{ width: 1280, height: 720 }, 480, { width: 480, height: 272 }],
    [{ width: 1280, height: 720 }, 832, { width: 832, height: 464 }],
  ])('%j at most %i wide → %j (multiples of 16)', (project, max, want) => {
    const s = generationSize(project, max);
    expect(s).toEqual(want);
    expect((s.width % 16) + (s.height % 16)).toBe(0);
  });
  it('gives attempt 1 the job seed and each retry a new one in 0..2^32-1', () => {
    expect(attemptSeed(123, 1)).toBe(123);
    const seeds = [1, 2, 3, 4].map((k) => attemptSeed(4_294_967_295, k));
    expect(new Set(seeds).size).toBe(4);
    for (const s of seeds) expect(s >= 0 && s < 2 ** 32 && Number.isInteger(s)).toBe(true);
  });
  it('reads the model settings, refusing a length that is not 4n+1', () => {
    expect(readGenerativeConfig({})).toMatchObject({ url: null, modelFrames: 81, modelFps: 16, attempts: 2, minSsim: 0.7, concurrency: 1, maxWidth: 1280 });
    expect(readGenerativeConfig({ MT_COMFYUI_URL: 'http://gpu-1:8188/' }).url).toBe('http://gpu-1:8188');
    expect(() => readGenerativeConfig({ MT_COMFYUI_FRAMES: '80' })).toThrow(/MT_COMFYUI_FRAMES must be a whole number 4n\+1/);
    expect(() => readGenerativeConfig({ MT_COMFYUI_URL: 'gpu:8188' })).toThrow(/MT_COMFYUI_URL/);
    expect(() => readGenerativeConfig({ MT_GENERATIVE_MIN_SSIM: '2' })).toThrow(/MT_GENERATIVE_MIN_SSIM/);
  });
});
