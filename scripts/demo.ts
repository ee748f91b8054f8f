// `./mt demo`: the main job on defaults. Starts the whole stack (unless a gateway already answers),
// makes a memorial video from sample photos the repository draws (or --photos DIR), prints where the
// video and the page are. Interactive: the stack keeps running until Ctrl-C. Not interactive (CI,
// scripts): the stack is stopped once the video is made. The memorial belongs to a local demo account
// (demo@memorialtube.localhost) whose API key the demo makes itself, as `./mt api-key create` would; with
// MT_API_KEY set, that key is used instead.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemorialClient } from '@mt/client';
import { config } from '@mt/platform';
import { createApiKeyForEmail } from '../services/gateway/src/auth/api-keys.js';
import { makeMemorial, parseMemorialArgs } from './memorial.js';
import { makeSamples } from './samples.js';

const o = parseMemorialArgs(process.argv.slice(2));
const out = path.resolve(o.out ?? 'out/memorial.mp4');
mkdirSync(path.dirname(out), { recursive: true });
mkdirSync('data/logs', { recursive: true });

const ready = () => createMemorialClient(o.url).isReady();
let stack: ChildProcess | undefined;
if (!(await ready())) {
  console.log(`Starting MemorialTube (logs: ${path.resolve('data/logs/stack.log')})`);
  const log = createWriteStream('data/logs/stack.log', { flags: 'a' });
  stack = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  stack.stdout!.pipe(log);
  stack.stderr!.pipe(log);
  const until = Date.now() + 120_000;
  while (!(await ready())) {
    if (Date.now() > until || stack.exitCode !== null) {
      console.error('MemorialTube did not start: see data/logs/stack.log (did ./setup.sh succeed?)');
      stack.kill('SIGTERM');
      process.exit(1);
    }
    await sleep(300);
  }
}
const stopStack = async () => {
  if (!stack || stack.exitCode !== null) return;
  stack.kill('SIGTERM');
  await new Promise((r) => stack!.once('exit', r));
};

const DEMO_EMAIL = 'demo@memorialtube.localhost'; // the address check wants a dot in the domain
let apiKey = o.apiKey;
if (!apiKey) {
  try {
    // Straight on the local database (DATABASE_URL), as `./mt api-key create` does; shown nowhere.
    apiKey = (await createApiKeyForEmail(config.databaseUrl, DEMO_EMAIL, 'demo')).key;
  } catch (e) {
    console.error(`demo: could not make the demo account's API key (${(e as Error).message}); is Postgres running (./setup.sh)?`);
    await stopStack();
    process.exit(1);
  }
}

let photos = o.photos;
let music = o.music;
if (!photos) {
  const s = await makeSamples(path.resolve('data/samples'));
  photos = s.photos;
  music ??= s.music;
  console.log(`Using sample photos drawn by the repository: ${photos}`);
}
try {
  await makeMemorial({
    ...o,
    apiKey,
    photos,
    music,
    out,
    title: o.title,
    resolution: o.photos ? o.resolution : process.argv.includes('--resolution') ? o.resolution : '720p',
  });
  console.log(`\nYour memorial video: ${out}`);
  console.log(
    `The family page:     ${o.url}/${o.apiKey ? '' : `  (sign in as ${DEMO_EMAIL}: without SMTP_URL the code is in the gateway's log${stack ? ', data/logs/stack.log' : ''})`}`,
  );
  console.log(`API docs:            ${o.url}/docs`);
} catch (e) {
  console.error(`demo: ${(e as Error).message}`);
  await stopStack();
  process.exit(1);
}
if (stack && process.stdin.isTTY) {
  console.log('\nMemorialTube keeps running; press Ctrl-C to stop it.');
  process.on('SIGINT', () => void stopStack().then(() => process.exit(0)));
} else {
  await stopStack();
}
