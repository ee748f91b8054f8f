import { config, runWorkerService } from '@mt/platform';
import { runLastClipJob, runTransitionJob } from './transition-job.js';

await runWorkerService(
  'transition',
  { transition: runTransitionJob, last_clip: runLastClipJob },
  { concurrency: { transition: config.transitionConcurrency } },
);
