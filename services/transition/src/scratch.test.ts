import { test } from 'vitest';
import { makeCanvas } from '@mt/media';
import { ComfyStandin } from '../../../tests/comfy-standin/test-double-comfyui.js';
import { readGenerativeConfig } from './generative-config.js';
import { GenerativeProvider } from './generative.js';

test('scratch', async () => {
  const a = '/tmp/scratch/a.png', b = '/tmp/scratch/b.png';
  await makeCanvas({ input: '/work/shared/corpus/photos/person_mary_lou_williams/mlw_02_1946_piano.jpg', output: a, width: 1280, height: 720 });
  await makeCanvas({ input: '/work/shared/corpus/photos/people_pd/miles_davis_gottlieb.jpg', output: b, width: 1280, height: 720 });
  const s = new ComfyStandin();
  const url = await s.start();
  for (const [mw, beh] of [[640, 'ok'], [1280, 'ok'], [480, 'ok'], [640, 'mismatch_end'], [640, 'black'], [640, 'drop_ws']] as const) {
    s.plan(beh);
    const g = new GenerativeProvider({ ...readGenerativeConfig({ MT_COMFYUI_URL: url, MT_COMFYUI_MAX_WIDTH: String(mw), MT_COMFYUI_POLL_MS: '500' }), url });
    const t = Date.now();
    try {
      const r = await g.generate({ from: a, to: b, output: `/tmp/scratch/out-${mw}-${beh}.mp4`, seconds: 6, fps: 24, size: { width: 1280, height: 720 }, seed: 5, signal: new AbortController().signal, onProgress: () => {}, log: console as any });
      console.log(mw, beh, r.detail, Date.now() - t);
    } catch (e) { console.log(mw, beh, 'FAIL', (e as any).reason, (e as Error).message, Date.now() - t); }
  }
  await s.stop();
}, 200_000);
