// The helpers' own logic against a scripted fetch: waiting through an outage, giving up at the
// deadline with what it last saw, stopping at once on a real error, and the upload's multipart body.
import { describe, expect, it } from 'vitest';
import { createMemorialClient, type Job, MemorialApiError } from './index.js';

const job = (status: Job['status'], stage = 'test_run') => ({ id: 'j1', status, runtime: { stage, progress_percent: 50 } }) as unknown as Job;
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A fetch that answers from a script, one entry a call (the last one repeats), and records requests. */
function scripted(answers: Array<() => Response>) {
  const requests: Request[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    requests.push(new Request(input, init));
    return answers[Math.min(requests.length - 1, answers.length - 1)]!();
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

describe('waitForJob', () => {
  it('waits through 503s and refused connections until the job ends', async () => {
    const down = () => {
      throw new TypeError('fetch failed');
    };
    const { fetch, requests } = scripted([
      () => json(200, job('running')),
      () => json(503, { error: { code: 'dependency_unavailable', message: 'x', details: {} } }),
      down,
      () => json(200, job('succeeded', 'test_done')),
    ]);
    const seen: string[] = [];
    const done = await createMemorialClient('http://gw', { fetch }).waitForJob('j1', { timeoutMs: 5_000, intervalMs: 1, onUpdate: (j) => seen.push(j.status) });
    expect(done.status).toBe('succeeded');
    expect(seen).toEqual(['running', 'succeeded']);
    expect(new URL(requests[0]!.url).pathname).toBe('/api/v1/jobs/j1');
  });

  it('gives up at the deadline saying where the job was', async () => {
    const { fetch } = scripted([() => json(200, job('running', 'transition_generate'))]);
    const wait = createMemorialClient('http://gw', { fetch }).waitForJob('j1', { timeoutMs: 50, intervalMs: 5 });
    await expect(wait).rejects.toThrow(/job j1 still running at transition_generate after 50 ms/);
  });

  it('stops at once on a 404, with the API error code', async () => {
    const { fetch, requests } = scripted([() => json(404, { error: { code: 'not_found', message: 'No job j1.', details: {} } })]);
    const e = await createMemorialClient('http://gw', { fetch })
      .waitForJob('j1', { timeoutMs: 5_000 })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MemorialApiError);
    expect(e).toMatchObject({ status: 404, code: 'not_found', message: 'No job j1.' });
    expect(requests).toHaveLength(1);
  });

  it('gives up after maxOutageMs of an unreachable gateway', async () => {
    const { fetch } = scripted([() => Promise.reject(new TypeError('fetch failed')) as never]);
    await expect(createMemorialClient('http://gw', { fetch }).waitForJob('j1', { timeoutMs: 5_000, maxOutageMs: 30, intervalMs: 5 })).rejects.toMatchObject({
      code: 'unreachable',
    });
  });
});

describe('uploadFiles', () => {
  it('sends one multipart request with a `files` part per file, with the given headers', async () => {
    const { fetch, requests } = scripted([() => json(201, { items: [] })]);
    const client = createMemorialClient('http://gw/', { fetch, headers: { authorization: 'Bearer k' } });
    const r = await client.uploadFiles('p1', [
      { data: new Uint8Array([1, 2, 3]), name: '할머니.jpg', type: 'image/jpeg' },
      { path: new URL(import.meta.url).pathname, name: 'notes.txt' },
    ]);
    expect(r.response.status).toBe(201);
    const req = requests[0]!;
    expect([req.method, new URL(req.url).pathname, req.headers.get('authorization')]).toEqual(['POST', '/api/v1/projects/p1/assets', 'Bearer k']);
    expect(req.headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
    const parts = (await req.formData()).getAll('files') as File[];
    expect(parts.map((f) => [f.name, f.size > 0])).toEqual([
      ['할머니.jpg', true],
      ['notes.txt', true],
    ]);
    expect(new Uint8Array(await parts[0]!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe('apiKey', () => {
  it('sends Authorization: Bearer with typed calls, uploads, waiting for a job and the video', async () => {
    const { fetch, requests } = scripted([
      () => json(200, { items: [], next_cursor: null }),
      () => json(201, { items: [] }),
      () => json(200, job('succeeded', 'test_done')),
      () => new Response(new Uint8Array([0, 0, 0, 24]), { status: 200, headers: { 'content-type': 'video/mp4' } }),
    ]);
    const client = createMemorialClient('http://gw', { fetch, apiKey: 'mt_k1', headers: { authorization: 'Bearer overridden' } });
    await client.GET('/api/v1/projects');
    await client.uploadFiles('p1', [{ data: new Uint8Array([1]), name: 'a.jpg' }]);
    await client.waitForJob('j1', { timeoutMs: 1_000 });
    await client.fetchVideo('p1');
    expect(requests.map((r) => [new URL(r.url).pathname, r.headers.get('authorization')])).toEqual([
      ['/api/v1/projects', 'Bearer mt_k1'],
      ['/api/v1/projects/p1/assets', 'Bearer mt_k1'],
      ['/api/v1/jobs/j1', 'Bearer mt_k1'],
      ['/api/v1/projects/p1/video', 'Bearer mt_k1'],
    ]);
  });

  it('a refused key ends a wait at once with the 401 (no retrying a credential that will not work)', async () => {
    const { fetch, requests } = scripted([() => json(401, { error: { code: 'unauthenticated', message: 'Sign in or send an API key.', details: {} } })]);
    const e = await createMemorialClient('http://gw', { fetch, apiKey: 'revoked' })
      .waitForJob('j1', { timeoutMs: 5_000 })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(requests).toHaveLength(1);
  });
});
