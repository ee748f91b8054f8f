// The pipeline's durable steps over real Postgres and NATS (no workers): the projector runs the
// coordinator in the event's transaction, so a listener that fails once is redelivered and the
// pipeline moves on about a second later — not when the 15 s reconciler comes round (it is not
// running here at all).
import { randomBytes } from 'node:crypto';
import { type Bus, connectBus, ensureTopology, publishEvent } from '@mt/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from './coordinator.js';
import { enqueueJob, type Repositories, transaction } from './db/index.js';
import { planFor } from './pipeline-plan.js';
import { Projector } from './projector.js';
import { Relay } from './relay.js';
import { freshDatabase, testLog, waitFor } from './test-support.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let bus: Bus;
let relay: Relay;
let projector: Projector;
let failuresLeft = 0;
let failedAt = 0;

/** A project with photos and a running pipeline whose canvas step is running. */
async function pipelineAtCanvas(repos: Repositories, photoCount: number) {
  const owner = await repos.members.accountForEmail('durable@example.test');
  const projectId = await repos.projects.create({ title: 'Durable', transition_seconds: 6, transition_style: 'classic', resolution: '720p', fps: 30 }, owner);
  await transaction(repos, (em) =>
    repos.assets.insert(
      em,
      Array.from({ length: photoCount }, (_, i) => ({
        id: `${projectId}-photo-${i}`,
        project_id: projectId,
        kind: 'photo' as const,
        filename: `p${i}.jpg`,
        content_type: 'image/jpeg',
        size_bytes: 1,
        sha256: 'x',
        width: 64,
        height: 48,
        duration_seconds: null,
        object_key: `k${i}`,
        thumbnail_key: null,
      })),
    ),
  );
  const plan = planFor((await repos.projects.find(projectId))!, await repos.assets.photos(projectId), null);
  const pipelineId = await transaction(repos, (em) =>
    enqueueJob(repos, em, { type: 'pipeline', projectId, params: { plan }, payload: { project_id: projectId } }),
  );
  const pipeline = (await repos.jobs.find(pipelineId))!;
  const canvasId = await transaction(repos, async (em) => {
    await repos.jobs.markRunning(em, pipelineId, new Date());
    const id = await enqueueJob(repos, em, {
      type: 'canvas',
      projectId,
      parentJobId: pipelineId,
      stepKey: 'canvas',
      traceId: pipeline.trace_id,
      params: {},
      payload: {},
    });
    await repos.jobs.markRunning(em, id, new Date());
    return id;
  });
  return { pipelineId, canvasId, traceId: pipeline.trace_id, photos: plan.photos };
}

/** The canvas step's success, as the canvas service publishes it. */
const canvasSucceeded = (canvasId: string, traceId: string, photos: Array<{ asset_id: string }>) =>
  publishEvent(bus, {
    job_id: canvasId,
    trace_id: traceId,
    kind: 'succeeded',
    attempt: 1,
    service: 'canvas',
    stage: 'canvas_done',
    result: { canvases: photos.map((p) => ({ asset_id: p.asset_id, key: `c-${p.asset_id}` })) },
  });

beforeAll(async () => {
  process.env.MT_NAMESPACE = `u${randomBytes(4).toString('hex')}`;
  db = await freshDatabase();
  const { busNames } = await import('@mt/contracts');
  bus = await connectBus('gateway-test', testLog);
  bus.names = busNames(process.env.MT_NAMESPACE);
  await ensureTopology(bus);
  relay = new Relay(db.repos.outbox, bus, testLog, 200);
  const coordinator = new Coordinator(db.repos, testLog, () => relay.kick());
  projector = new Projector(db.repos, bus, testLog, () => relay.kick());
  projector.onApplied(coordinator.onApplied);
  // The injected fault: the first listener call after arming throws, as a listener hitting a dropped connection would.
  projector.onApplied(async () => {
    if (failuresLeft > 0) {
      failuresLeft--;
      failedAt = Date.now();
      throw new Error('injected listener failure');
    }
  });
  relay.start();
  await projector.start();
});

afterAll(async () => {
  projector?.stop();
  relay?.stop();
  if (bus) {
    for (const s of [bus.names.commandStream, bus.names.eventStream, bus.names.cancelStream]) await bus.jsm.streams.delete(s).catch(() => {});
    await bus.nc.close();
  }
  await db?.drop();
});

describe('durable pipeline steps', () => {
  it('a listener that fails once is retried with the redelivered event: the next steps start within about a second of it', async () => {
    const { pipelineId, canvasId, traceId, photos } = await pipelineAtCanvas(db.repos, 3);
    failuresLeft = 1;
    await canvasSucceeded(canvasId, traceId, photos);
    const children = await waitFor(
      'the transitions and the last clip',
      async () => {
        const c = await db.repos.jobs.children(pipelineId);
        return c.length === 4 ? c : null;
      },
      10_000,
    );
    const movedOnAfter = Date.now() - failedAt;
    expect(failuresLeft).toBe(0); // the fault did fire
    expect(children.map((c) => c.step_key).sort()).toEqual(['canvas', 'last_clip', 'transition:0', 'transition:1']);
    expect(movedOnAfter).toBeLessThan(3_000);
    // The canvas job is succeeded exactly once: the rolled-back first try left nothing behind.
    expect((await db.repos.jobs.find(canvasId))!.status).toBe('succeeded');
    // And the new steps' commands really went out through the outbox to JetStream.
    const info = await waitFor(
      'commands in the stream',
      async () => {
        const s = await bus.jsm.streams.info(bus.names.commandStream);
        return s.state.messages >= 4 ? s : null;
      },
      5_000,
    );
    expect(info.state.messages).toBeGreaterThanOrEqual(4);
  });

  it('starts each clip as soon as the canvas step reports its photos stored, before the step ends, and never twice', async () => {
    const { pipelineId, canvasId, traceId, photos } = await pipelineAtCanvas(db.repos, 3);
    const ids = photos.map((p) => p.asset_id);
    const ready = (assetIds: string[]) =>
      publishEvent(bus, {
        job_id: canvasId,
        trace_id: traceId,
        kind: 'progress',
        attempt: 1,
        service: 'canvas',
        stage: 'canvas_generate',
        canvases_ready: assetIds,
      });
    const steps = async () => (await db.repos.jobs.children(pipelineId)).map((c) => c.step_key).sort();
    const stepsBecome = (want: string[]) => waitFor(`steps ${want.join(', ')}`, async () => ((await steps()).join() === want.join() ? true : null), 10_000);

    await ready([ids[1]!]); // one photo: no clip has both its canvases
    await ready([ids[1]!, ids[0]!]); // the first two (in any order): the first transition
    await stepsBecome(['canvas', 'transition:0']);
    await ready([ids[1]!, ids[0]!, ids[2]!]); // all three: the second transition and the closing clip
    await stepsBecome(['canvas', 'last_clip', 'transition:0', 'transition:1']);
    await canvasSucceeded(canvasId, traceId, photos);
    await waitFor('the canvas step done', async () => ((await db.repos.jobs.find(canvasId))?.status === 'succeeded' ? true : null), 10_000);
    expect(await steps()).toEqual(['canvas', 'last_clip', 'transition:0', 'transition:1']);
  });

  it("shows every stage of a step on the pipeline however close together they come, and one step's progress at most every 400 ms", async () => {
    const { pipelineId, canvasId, traceId } = await pipelineAtCanvas(db.repos, 2);
    const progress = (stage: 'canvas_start' | 'canvas_generate' | 'canvas_validate', percent: number) =>
      publishEvent(bus, { job_id: canvasId, trace_id: traceId, kind: 'progress', attempt: 1, service: 'canvas', stage, progress_percent: percent });
    await progress('canvas_start', 0);
    for (let p = 1; p <= 20; p++) await progress('canvas_generate', p);
    await progress('canvas_validate', 90);
    const pipeline = await waitFor(
      'the pipeline at canvas_validate',
      async () => {
        const j = await db.repos.jobs.find(pipelineId);
        return j?.r_stage === 'canvas_validate' ? j : null;
      },
      10_000,
    );
    expect(pipeline.r_timings.map((t) => t.stage)).toEqual(['canvas_start', 'canvas_generate', 'canvas_validate']);
    // 22 child events in well under a second on a quiet machine: the pipeline hears of each stage, not of
    // every percent (a busy machine spreads them out, so a few repeats may pass the 400 ms hold).
    const pipelineEvents = await db.orm.em
      .fork()
      .execute<{ n: string }[]>(`select count(*) as n from job_events where job_id = ? and kind = 'progress'`, [pipelineId]);
    expect(Number(pipelineEvents[0]!.n)).toBeGreaterThanOrEqual(3);
    expect(Number(pipelineEvents[0]!.n)).toBeLessThan(10);
  });

  it('a pipeline finished twice before its final event is applied sends one final event and nothing after it', async () => {
    const { pipelineId, canvasId } = await pipelineAtCanvas(db.repos, 2);
    // The canvas step failed (written as the projector would), and nothing has published yet: the
    // pipeline still reads as running when a second child event or the reconciler comes round.
    relay.stop();
    await transaction(db.repos, (em) =>
      db.repos.jobs.finish(em, canvasId, { status: 'failed', result: null, error: { code: 'invalid_input', message: 'Photo 1: damaged' }, at: new Date() }),
    );
    const quiet = new Coordinator(db.repos, testLog, () => {});
    await quiet.advance(pipelineId);
    await quiet.advance(pipelineId);
    const queued = await db.orm.em
      .fork()
      .execute<{ event_id: string }[]>(`select body->>'event_id' as event_id from outbox where job_id = ? and body->>'kind' = 'failed'`, [pipelineId]);
    // the second finds the final event written and says nothing more (and were it sent twice, its id is one)
    expect(queued.map((r) => r.event_id)).toEqual([`${pipelineId}.final`]);
    relay.start();
    await waitFor('the pipeline to fail', async () => ((await db.repos.jobs.find(pipelineId))?.status === 'failed' ? true : null), 10_000);
    const subject = bus.names.event(pipelineId, 'failed');
    const info = await bus.jsm.streams.info(bus.names.eventStream, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(1);
  });

  it('a failed step cancels its running siblings and fails the pipeline, through the outbox', async () => {
    const { pipelineId, canvasId, traceId } = await pipelineAtCanvas(db.repos, 2);
    await publishEvent(bus, {
      job_id: canvasId,
      trace_id: traceId,
      kind: 'failed',
      attempt: 1,
      service: 'canvas',
      stage: 'failed',
      error: { code: 'invalid_input', message: 'Photo 2: damaged', stage: 'canvas_generate' },
    });
    const pipeline = await waitFor(
      'the pipeline to fail',
      async () => {
        const j = await db.repos.jobs.find(pipelineId);
        return j?.status === 'failed' ? j : null;
      },
      10_000,
    );
    expect(pipeline.error).toMatchObject({ code: 'child_failed', message: 'Preparing the photos failed: Photo 2: damaged' });
  });
});
