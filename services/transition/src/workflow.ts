/**
 * The ComfyUI workflow (API format) as a template: a JSON file in infra/comfyui/ whose string values
 * may hold `{{name}}` placeholders. A string that is exactly one placeholder becomes the typed value
 * (numbers stay numbers); a placeholder inside a longer string is replaced as text. Pure, apart from
 * `loadWorkflowTemplate`.
 */
import { readFile } from 'node:fs/promises';

export interface WorkflowValues {
  /** Uploaded file names of canvas A and canvas B, as the server named them. */
  image_a: string;
  image_b: string;
  width: number;
  height: number;
  /** Frames the model makes (4n+1). */
  length: number;
  /** The model's frame rate. */
  fps: number;
  seed: number;
  /** The transition's final length in seconds (informational: the clip is retimed afterwards). */
  seconds: number;
  /** A file name prefix unique to this attempt. */
  prefix: string;
}

export interface WorkflowNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}
export type Workflow = Record<string, WorkflowNode>;

/** Placeholders a template must use: without them the clip could not depend on the photos, size, length or seed. */
export const REQUIRED_PLACEHOLDERS = ['image_a', 'image_b', 'width', 'height', 'length', 'seed'] as const;

export class WorkflowTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowTemplateError';
  }
}

const WHOLE = /^\{\{\s*([a-z_]+)\s*\}\}$/;
const ANY = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Names of every placeholder in a template. */
export function placeholdersOf(template: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(ANY)) found.add(m[1]!);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(template);
  return found;
}

/** Checks a parsed template: API format (node id → {class_type, inputs}), known placeholders, the required ones present. */
export function checkTemplate(template: unknown, known: readonly string[] = Object.keys(EXAMPLE_VALUES)): Workflow {
  if (!template || typeof template !== 'object' || Array.isArray(template))
    throw new WorkflowTemplateError('the workflow must be a JSON object of nodes (ComfyUI API format)');
  const nodes = Object.entries(template as Record<string, unknown>);
  if (nodes.length === 0) throw new WorkflowTemplateError('the workflow has no nodes');
  for (const [id, node] of nodes) {
    const n = node as Partial<WorkflowNode> | null;
    if (!n || typeof n !== 'object' || typeof n.class_type !== 'string' || !n.inputs || typeof n.inputs !== 'object')
      throw new WorkflowTemplateError(`node ${id} needs a class_type and inputs (is this the UI format? export it with "Save (API)")`);
  }
  const used = placeholdersOf(template);
  const unknown = [...used].filter((p) => !known.includes(p));
  if (unknown.length) throw new WorkflowTemplateError(`unknown placeholder(s) ${unknown.map((p) => `{{${p}}}`).join(', ')}; known: ${known.join(', ')}`);
  const missing = REQUIRED_PLACEHOLDERS.filter((p) => !used.has(p));
  if (missing.length) throw new WorkflowTemplateError(`the workflow never uses ${missing.map((p) => `{{${p}}}`).join(', ')}`);
  return template as Workflow;
}

/** A copy of the template with every placeholder filled in. */
export function fillWorkflow(template: Workflow, values: WorkflowValues): Workflow {
  const table = values as unknown as Record<string, string | number>;
  const lookup = (name: string): string | number => {
    const v = table[name];
    if (v === undefined) throw new WorkflowTemplateError(`no value for {{${name}}}`);
    return v;
  };
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const whole = WHOLE.exec(v);
      if (whole) return lookup(whole[1]!);
      return v.replace(ANY, (_m, name: string) => String(lookup(name)));
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(template) as Workflow;
}

const EXAMPLE_VALUES: WorkflowValues = { image_a: '', image_b: '', width: 0, height: 0, length: 0, fps: 0, seed: 0, seconds: 0, prefix: '' };

/** Reads and checks a template file; a broken file names itself in the error. */
export async function loadWorkflowTemplate(file: string): Promise<Workflow> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new WorkflowTemplateError(`cannot read the workflow template ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new WorkflowTemplateError(`the workflow template ${file} is not JSON: ${(e as Error).message}`);
  }
  try {
    return checkTemplate(parsed);
  } catch (e) {
    throw new WorkflowTemplateError(`${file}: ${(e as Error).message}`);
  }
}

/**
 * The size asked of the model: the project's aspect at most `maxWidth` wide, both sides multiples of
 * 16 (Wan's latent grid). The clip is scaled back to the project size when it is normalised.
 */
export function generationSize(project: { width: number; height: number }, maxWidth: number): { width: number; height: number } {
  const width = Math.max(16, Math.floor(Math.min(project.width, maxWidth) / 16) * 16);
  const height = Math.max(16, Math.round((width * project.height) / project.width / 16) * 16);
  return { width, height };
}

/**
 * A seed per attempt: attempt 1 uses the job's seed (same pair of photos, same clip), each retry a
 * different one, all within ComfyUI's 0..2^32-1 range.
 */
export function attemptSeed(seed: number, attempt: number): number {
  const s = (BigInt(Math.trunc(seed)) + BigInt(attempt - 1) * 2_654_435_761n) % 4_294_967_296n;
  return Number(s < 0n ? s + 4_294_967_296n : s);
}
