import { runWorkerService } from '@mt/platform';
import { runRenderJob } from './render-job.js';

await runWorkerService('render', { render: runRenderJob });
