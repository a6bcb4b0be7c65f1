import { defineConfig } from 'vitest/config';

// Integration tests start real processes (search nodes, redis-server, workerd); on a
// 2-core machine they must not all run at once, so files run in at most two forks.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
