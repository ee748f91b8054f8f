// A bounded, seeded fuzzer driven by a gateway's own /openapi.json. It turns every operation of the
// document into odd requests (bad JSON, truncated and oversized bodies, wrong types, missing and extra
// fields, odd ids and query values) and reports every answer that is a 5xx or an error without the
// documented body `{ error: { code, message, details } }`. The same seed gives the same requests.
import { ErrorBody } from '@mt/contracts';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof seededRandom>;

type Schema = {
  $ref?: string;
  /** OpenAPI 3.1 spells a nullable type as ['string', 'null'] */
  type?: string | string[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema };
export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. /api/v1/projects/{project_id} */
  path: string;
  params: Parameter[];
  bodyType?: string;
  bodySchema?: Schema;
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Every operation in the document, with `$ref`s resolved. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  const resolve = (s: Schema | undefined, depth = 0): Schema | undefined => {
    if (!s || depth > 20) return s;
    if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.split('/').pop()!], depth + 1);
    const out: Schema = { ...s };
    if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, resolve(v, depth + 1)!]));
    if (s.items) out.items = resolve(s.items, depth + 1);
    for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (s[k]) out[k] = s[k]!.map((x) => resolve(x, depth + 1)!);
    return out;
  };
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const [bodyType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? []).map((p) => ({ ...p, schema: resolve(p.schema) })),
        bodyType,
        bodySchema: resolve(media?.schema),
      });
    }
  }
  return ops;
}

/** Real ids the fuzzer puts in paths and bodies so requests reach past "not found" into the code. */
export interface KnownIds {
  project_id: string;
  asset_id: string;
  job_id: string;
  /** A memorial of its own for `DELETE /projects/{project_id}`: deleting the target would empty every later probe. */
  disposable_project_id: string;
}

/** A value the schema accepts (as far as a generator can tell): the base that mutations start from. */
export function sampleValid(s: Schema | undefined, rng: Rng, ids: KnownIds, name = ''): unknown {
  if (!s) return null;
  if (s.enum) return rng.pick(s.enum);
  if (s.const !== undefined) return s.const;
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return sampleValid(rng.pick(alternatives), rng, ids, name);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((x) => sampleValid(x, rng, ids, name)));
  const idLike = Object.entries(ids).find(([k]) => name === k || name.endsWith(k) || (name.endsWith('asset_id') && k === 'asset_id'));
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) if (s.required?.includes(k) || rng.chance(0.5)) out[k] = sampleValid(v, rng, ids, k);
      return out;
    }
    case 'array':
      return name === 'asset_ids' ? [ids.asset_id] : Array.from({ length: 1 + rng.int(2) }, () => sampleValid(s.items, rng, ids, name));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return rng.chance(0.5);
    case 'string':
      if (idLike) return idLike[1];
      if (s.pattern?.includes('\\d{4}')) return '1941';
      return 'In memory of Grace'.slice(0, s.maxLength ?? 200);
    default:
      return null;
  }
}

/** Values of every other type, and strings Postgres cannot hold: each replaces a field in turn. */
export const WRONG_VALUES: readonly unknown[] = [
  123,
  -1,
  0,
  1.5,
  1e308,
  true,
  false,
  null,
  [],
  {},
  [1, 'two'],
  { nested: { deep: 1 } },
  '',
  ' ',
  'a'.repeat(10_000),
  '\u0000',
  'before\u0000after',
  '\ud800',
  'emoji 😀 名前',
  "x' OR '1'='1",
  '../../etc/passwd',
  '<script>alert(1)</script>',
];

/** Path ids a client might send by mistake or on purpose (already percent-encoded where they must be). */
export const ODD_IDS: readonly string[] = [
  '%00',
  'abc%00def',
  '..',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  'x'.repeat(5_000),
  '%C3%84%C3%96%E5%90%8D',
  '%F0%9F%98%80',
  "1'%20OR%20'1'%3D'1",
  '1%3Bdrop%20table%20projects%3B--',
  '%ff',
  '%',
  '%ed%a0%80',
  '-1',
  '0',
  '99999999999999999999999',
  '00000000-0000-0000-0000-000000000000',
  '%20',
  'null',
  'undefined',
  '%5B%5D',
  '%7B%7D',
];

/** Query values, including repeated keys (arrays) and escapes that decode to NUL or nothing valid. */
export const ODD_QUERY_VALUES: readonly string[] = [
  '-1',
  '0',
  '1',
  '201',
  '99999999999999999999',
  '1e3',
  '1.5',
  'NaN',
  'Infinity',
  'abc',
  '',
  '%00',
  'a%00b',
  '%ff',
  '%ed%a0%80',
  'x'.repeat(5_000),
  'eyJiYWQiOiJjdXJzb3IifQ',
  '%F0%9F%98%80',
  "'%3B--",
  'null',
  '[]',
];

export const MALFORMED_JSON: readonly string[] = [
  '{',
  '}',
  '{"title":',
  '{"title": "a",}',
  "{'title': 'a'}",
  'nul',
  'undefined',
  '[1,2',
  '"\\u0000',
  '{"a":"\\ud800"}',
  '{"title":"a"}{"title":"b"}',
  '\u0000',
  '\ufeff{"title":"a"}',
  '1'.repeat(400),
  '{"__proto__":{"polluted":1},"title":"a"}',
  '{"constructor":{"prototype":{"x":1}}}',
  '[]',
  '"just a string"',
  '12',
  'true',
  'null',
];

export interface Probe {
  label: string;
  method: string;
  /** path and query, percent-encoded as sent */
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | FormData | ReadableStream<Uint8Array>;
}

export interface Finding {
  label: string;
  request: string;
  status: number;
  body: string;
}

/** Checks one answer: no 5xx, and every 4xx carries the documented error body. Null when fine. */
export async function judge(probe: Probe, res: Response): Promise<Finding | null> {
  const text = await res.text();
  const finding = (why: string): Finding => ({
    label: `${probe.label} (${why})`,
    request: `${probe.method} ${probe.url}`,
    status: res.status,
    body: text.slice(0, 300),
  });
  if (res.status >= 500) return finding('5xx');
  if (res.status < 400) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return finding('error body is not JSON');
  }
  return ErrorBody.safeParse(parsed).success ? null : finding('error body not { error: { code, message, details } }');
}

const fillPath = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? encodeURIComponent(k));
const pathNames = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
const json = { 'content-type': 'application/json' };

/** Every odd request the fuzzer makes for one operation (bounded by the caller, who samples them). */
export function probesFor(op: Operation, rng: Rng, ids: KnownIds): Probe[] {
  const names = pathNames(op.path);
  const deletesTheMemorial = op.method === 'DELETE' && op.path === '/api/v1/projects/{project_id}';
  const known = deletesTheMemorial ? { ...ids, project_id: ids.disposable_project_id } : ids;
  const realPath: Record<string, string> = Object.fromEntries(names.map((n) => [n, (known as unknown as Record<string, string>)[n] ?? known.project_id]));
  const url = fillPath(op.path, realPath);
  const at = (what: string) => `${op.method} ${op.path}: ${what}`;
  const probes: Probe[] = [];

  for (const name of names)
    for (const odd of ODD_IDS)
      probes.push({
        label: at(`odd ${name} "${odd.slice(0, 24)}"`),
        method: op.method,
        url: fillPath(op.path, { ...realPath, [name]: odd }),
        ...(op.bodyType === 'application/json' ? { headers: json, body: JSON.stringify(sampleValid(op.bodySchema, rng, ids)) } : {}),
      });

  for (const p of op.params.filter((x) => x.in === 'query')) {
    for (const odd of ODD_QUERY_VALUES) probes.push({ label: at(`query ${p.name}=${odd.slice(0, 24)}`), method: op.method, url: `${url}?${p.name}=${odd}` });
    probes.push({ label: at(`query ${p.name} twice (an array)`), method: op.method, url: `${url}?${p.name}=1&${p.name}=2` });
    probes.push({ label: at(`query ${p.name}[]=`), method: op.method, url: `${url}?${p.name}%5B%5D=1&${p.name}%5Bx%5D=2` });
  }
  if (op.method === 'GET') probes.push({ label: at('unknown query key with NUL'), method: op.method, url: `${url}?a%00b=1` });

  if (op.bodyType === 'application/json') probes.push(...jsonBodyProbes(op, url, rng, ids));
  else if (op.method !== 'GET') {
    // Operations without a JSON body still get one, and a body of another type.
    probes.push({ label: at('unexpected JSON body'), method: op.method, url, headers: json, body: '{"x":"\\u0000"}' });
    probes.push({ label: at('unexpected malformed JSON body'), method: op.method, url, headers: json, body: '{' });
  }
  return probes;
}

function jsonBodyProbes(op: Operation, url: string, rng: Rng, ids: KnownIds): Probe[] {
  const at = (what: string) => `${op.method} ${op.path}: ${what}`;
  const base = sampleValid(op.bodySchema, rng, ids) as Record<string, unknown>;
  const baseText = JSON.stringify(base);
  const probes: Probe[] = [
    { label: at('valid body'), method: op.method, url, headers: json, body: baseText },
    { label: at('no body'), method: op.method, url, headers: json },
    { label: at('empty body'), method: op.method, url, headers: json, body: '' },
    { label: at('body as text/plain'), method: op.method, url, headers: { 'content-type': 'text/plain' }, body: baseText },
    { label: at('no content-type'), method: op.method, url, body: baseText },
    { label: at('content-type with charset latin1'), method: op.method, url, headers: { 'content-type': 'application/json; charset=latin1' }, body: baseText },
    { label: at('body as form'), method: op.method, url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'title=a%00b' },
    {
      label: at('extra fields'),
      method: op.method,
      url,
      headers: json,
      body: JSON.stringify({ ...base, extra: 'x', id: 'forced', status: 'completed', __proto__x: 1 }),
    },
    { label: at('oversized body (1.5 MB)'), method: op.method, url, headers: json, body: JSON.stringify({ ...base, pad: 'x'.repeat(1_500_000) }) },
    { label: at('oversized body, chunked with no length'), method: op.method, url, headers: json, body: chunkedBody(1_200_000) },
    {
      label: at('body of invalid UTF-8 bytes'),
      method: op.method,
      url,
      headers: json,
      body: new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]),
    },
  ];
  for (const bad of MALFORMED_JSON)
    probes.push({ label: at(`malformed JSON ${JSON.stringify(bad.slice(0, 20))}`), method: op.method, url, headers: json, body: bad });
  for (let cut = 1; cut < baseText.length; cut += Math.max(1, Math.floor(baseText.length / 6)))
    probes.push({ label: at(`truncated body at ${cut}`), method: op.method, url, headers: json, body: baseText.slice(0, cut) });
  for (const field of Object.keys(op.bodySchema?.properties ?? {})) {
    for (const wrong of WRONG_VALUES)
      probes.push({
        label: at(`${field} = ${JSON.stringify(wrong)?.slice(0, 24)}`),
        method: op.method,
        url,
        headers: json,
        body: JSON.stringify({ ...base, [field]: wrong }),
      });
    if (op.bodySchema?.required?.includes(field)) {
      const { [field]: _dropped, ...rest } = base;
      probes.push({ label: at(`missing required ${field}`), method: op.method, url, headers: json, body: JSON.stringify(rest) });
    }
  }
  return probes;
}

/** A body streamed in chunks (no content-length), `bytes` long: the limit must hold without a length. */
function chunkedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(`{"pad":"${'y'.repeat(64 * 1024)}`);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

/** Requests the document does not describe as JSON: uploads, the video with Range headers, SSE. */
export function extraProbes(ids: KnownIds, photo: Uint8Array): Probe[] {
  const upload = `/api/v1/projects/${ids.project_id}/assets`;
  const form = (...files: Array<[string, Blob, string?]>) => {
    const f = new FormData();
    for (const [field, blob, name] of files) f.append(field, blob, name);
    return f;
  };
  const png = () => new Blob([photo], { type: 'image/png' });
  const probes: Probe[] = [
    { label: 'upload: no body', method: 'POST', url: upload },
    { label: 'upload: JSON instead of multipart', method: 'POST', url: upload, headers: json, body: '{"files":[]}' },
    { label: 'upload: multipart without boundary', method: 'POST', url: upload, headers: { 'content-type': 'multipart/form-data' }, body: '--x\r\n\r\n' },
    {
      label: 'upload: multipart with a wrong boundary',
      method: 'POST',
      url: upload,
      headers: { 'content-type': 'multipart/form-data; boundary=nope' },
      body: '--other\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\nabc\r\n--other--\r\n',
    },
    {
      label: 'upload: truncated multipart',
      method: 'POST',
      url: upload,
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: '--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG',
    },
    { label: 'upload: empty form', method: 'POST', url: upload, body: form() },
    {
      label: 'upload: a text field only',
      method: 'POST',
      url: upload,
      body: (() => {
        const f = new FormData();
        f.append('files', 'not a file');
        return f;
      })(),
    },
    { label: 'upload: wrong field name', method: 'POST', url: upload, body: form(['photo', png(), 'a.png']) },
    { label: 'upload: zero-byte file', method: 'POST', url: upload, body: form(['files', new Blob([]), 'empty.png']) },
    { label: 'upload: text as a photo', method: 'POST', url: upload, body: form(['files', new Blob(['hello'], { type: 'image/png' }), 'a.png']) },
    { label: 'upload: NUL in the filename', method: 'POST', url: upload, body: form(['files', png(), 'a\u0000b.png']) },
    { label: 'upload: odd filename', method: 'POST', url: upload, body: form(['files', png(), `../../${'名'.repeat(300)}😀.png`]) },
    { label: 'upload: lone surrogate in the filename', method: 'POST', url: upload, body: form(['files', png(), 'a\ud800.png']) },
    {
      label: 'upload: file over the upload limit',
      method: 'POST',
      url: upload,
      body: form(['files', new Blob([new Uint8Array(1_600_000)], { type: 'image/png' }), 'big.png']),
    },
  ];
  for (const range of [
    'bytes=0-',
    'bytes=0-0',
    'bytes=-5',
    'bytes=5-1',
    'bytes=99999999999999-',
    'bytes=0-1,2-3',
    'items=0-1',
    'bytes=abc',
    'bytes=',
    'bytes=-',
    'bytes=1-99999999999999999999999',
  ])
    for (const what of ['video', 'poster'])
      probes.push({ label: `GET ${what} with Range ${range}`, method: 'GET', url: `/api/v1/projects/${ids.project_id}/${what}`, headers: { range } });
  for (const odd of ODD_IDS) {
    probes.push({ label: `GET video of odd id ${odd.slice(0, 24)}`, method: 'GET', url: `/api/v1/projects/${odd}/video`, headers: { range: 'bytes=0-' } });
    probes.push({ label: `GET events of odd job id ${odd.slice(0, 24)}`, method: 'GET', url: `/api/v1/jobs/${odd}/events` });
  }
  return probes;
}
