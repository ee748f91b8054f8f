import { runWorkerService } from '@mt/platform';
import { runCanvasJob } from './canvas-job.js';
import { runTestJob } from './test-job.js';

// The canvas service also runs the light `test` job, which exercises the whole bus without media.
await runWorkerService('canvas', { canvas: runCanvasJob, test: runTestJob });
