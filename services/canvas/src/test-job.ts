import { setTimeout as sleep } from 'node:timers/promises';
import { objectKeys } from '@mt/contracts';
import { JobFailure, type JobHandler } from '@mt/platform';

/**
 * The `test` job: walks through its stages with a pause per step so the bus, the projector,
 * progress and cancel can be seen working without any media. It stores a small artifact too,
 * so the object store is exercised end to end.
 */
export const runTestJob: JobHandler<'test'> = async (ctx) => {
  const { steps, step_ms, fail_at_step } = ctx.cmd.payload;
  await ctx.stage('test_start', 0, `Starting ${steps} steps`);
  await ctx.stage('test_run', 0);
  for (let step = 1; step <= steps; step++) {
    await sleep(step_ms, undefined, { signal: ctx.signal });
    if (fail_at_step === step) throw new JobFailure('test_failure', `Test job failed at step ${step} as asked (fail_at_step=${step}).`);
    ctx.progress(Math.round((step / steps) * 95), `Step ${step} of ${steps}`);
  }
  const key = objectKeys.testArtifact(ctx.cmd.job_id);
  await ctx.storage.putBytes(key, JSON.stringify({ job_id: ctx.cmd.job_id, steps }), 'application/json');
  await ctx.stage('test_done', 100, 'Done');
  return { steps, artifact_key: key };
};
