import { defineConfig } from 'vitest/config';

// One run covers unit tests beside the code and the end-to-end tests in tests/ (which start the real
// stack themselves). Two cores here: at most two test files at once.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'tests/chaos/**'],
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
