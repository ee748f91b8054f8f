// The local S3-compatible object store that `pnpm start` runs (s3rver: a real S3 HTTP API on disk).
// In production point S3_ENDPOINT at MinIO or AWS S3 instead and do not run this.
import path from 'node:path';
import S3rver from 's3rver';
import { withAtomicPuts } from './s3rver-atomic.js';

const url = new URL(process.env.S3_ENDPOINT ?? 'http://127.0.0.1:4569');
const directory = path.resolve(process.env.MT_DATA_DIR ?? 'data', 's3');
const server = withAtomicPuts(
  new S3rver({
    address: url.hostname,
    port: Number(url.port || 4569),
    directory,
    silent: true,
    configureBuckets: [{ name: process.env.S3_BUCKET ?? 'memorialtube', configs: [] }],
  }),
);
const { address, port } = await server.run();
console.log(JSON.stringify({ level: 30, service: 's3', msg: `s3rver listening on http://${address}:${port}`, directory }));
const stop = () => void server.close().finally(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
