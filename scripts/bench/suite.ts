/** The shape of one benchmark suite (one module under suites/, one section of BENCHMARKS.md). */
import type { BenchContext } from './context.ts';

export interface Suite {
  /** `--suite NAME` and the section key. */
  name: string;
  title: string;
  /** Runs the measurements and returns the section's markdown body (tables, goals, notes). */
  run(ctx: BenchContext): Promise<string>;
}
