import { defineConfig } from 'vitest/config';

// The chaos suite runs alone: it restarts its own NATS and Postgres and kills processes.
export default defineConfig({
  test: { include: ['tests/chaos/**/*.test.ts'], maxWorkers: 1, testTimeout: 3_600_000, hookTimeout: 300_000 },
});
