// Small helpers for talking to a running stack the way a client would.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '@mt/contracts';

export class Api {
  constructor(readonly base: string) {}

  async req(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
    const r = await fetch(`${this.base}/api/v1${p}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  async upload(projectId: string, files: Array<{ path?: string; name?: string; data?: Buffer; type?: string }>) {
    const form = new FormData();
    for (const f of files) {
      const data = f.data ?? (await readFile(f.path!));
      form.append('files', new Blob([new Uint8Array(data)], { type: f.type ?? 'application/octet-stream' }), f.name ?? path.basename(f.path!));
    }
    const r = await fetch(`${this.base}/api/v1/projects/${projectId}/assets`, { method: 'POST', body: form });
    return { status: r.status, body: (await r.json()) as any };
  }

  async project(body: Record<string, unknown> = {}) {
    const r = await this.req('POST', '/projects', { title: 'In memory', resolution: '720p', ...body });
    if (r.status !== 201) throw new Error(`create project: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { id: string };
  }

  /** Polls a job until it is final (or the time runs out) and returns it. */
  async waitJob(id: string, timeoutMs = 120_000, until: (j: Job) => boolean = (j) => ['succeeded', 'failed', 'canceled'].includes(j.status)): Promise<Job> {
    const end = Date.now() + timeoutMs;
    let j: Job | undefined;
    while (Date.now() < end) {
      j = (await this.req('GET', `/jobs/${id}`)).body as Job;
      if (until(j)) return j;
      await sleep(100);
    }
    throw new Error(`job ${id} still ${j?.status} at ${j?.runtime.stage} after ${timeoutMs} ms`);
  }
}
