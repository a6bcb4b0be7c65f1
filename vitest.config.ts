import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest's order (timings of an earlier run, else larger files first) with the full-stack files
 * moved to the front of their tier. They are the longest by far (the chaos file runs every
 * scenario), yet small files: in a fresh clone, with no timings cached (as CI runs), they would
 * start last and leave one fork working alone at the end of the suite.
 */
class FullStackFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const tier = (f: TestSpecification) => f.project.config.sequence.groupOrder;
    const fullStack = (f: TestSpecification) => /[\\/]test[\\/]fullstack[\\/]/.test(f.moduleId);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => tier(a.f) - tier(b.f) || Number(fullStack(b.f)) - Number(fullStack(a.f)) || a.i - b.i)
      .map(({ f }) => f);
  }
}

// Two tiers. `unit`: pure logic and Hono apps driven with app.request(); no child processes, no
// native index or model, so `npm run test:unit` answers in seconds. `integration`: real Redis,
// real search-node processes, real FAISS and ONNX Runtime, real workerd, Chromium. Integration
// files start real processes; on a 2-core machine they must not all run at once, so they run in
// at most two forks, after the unit tier (groupOrder).
export default defineConfig({
  test: {
    pool: 'forks',
    sequence: { sequencer: FullStackFirst },
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
