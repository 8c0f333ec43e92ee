import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // Two test files at once. Left to its default, vitest ran one at a time on this 2-core
    // machine (the file durations summed to the whole run); the end-to-end files spend most of
    // their time waiting on visibility timeouts, so two overlap well.
    maxWorkers: 2,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
  },
});
