import { defineConfig } from 'vitest/config';

// Two tiers. `unit`: pure logic and Hono apps driven with app.request(); no child processes, no
// native index or model, so `npm run test:unit` answers in seconds. `integration`: real Redis,
// real search-node processes, real FAISS and ONNX Runtime, real workerd, Chromium. Integration
// files start real processes; on a 2-core machine they must not all run at once, so they run in
// at most two forks, after the unit tier (groupOrder).
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
