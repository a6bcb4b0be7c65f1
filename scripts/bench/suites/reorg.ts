/**
 * Suite "reorg": what a compaction and a snapshot cost the searches running beside them. One
 * engine in this process (real SQLite, real FAISS worker threads, synthetic unit vectors, no
 * model), searched at concurrency 8 in three phases of the same run: steady state, while
 * compactions rebuild the index (the first after a third of the corpus was rewritten), and while
 * snapshots are written. Event-loop delay is what /health would feel. Goal: p99 at most 2× steady.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SearchEngine } from '../../../worker-node/engine.ts';
import type { ApplyEntry } from '../../../worker-node/metadata/store.ts';
import { mulberry32, type Random } from '../../corpus/random.ts';
import { formatCount, formatMs, formatRatio, markdownTable, ratio, summarize } from '../stats.ts';
import type { Suite } from '../suite.ts';

const DIM = 100;
const CONCURRENCY = 8;

function unitVector(random: Random): Float32Array {
  const v = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Searches at CONCURRENCY until `during` settles (or for `ms`); latencies and loop delay. */
async function measure(engine: SearchEngine, random: Random, during: Promise<unknown> | number) {
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let done = false;
  const finished = typeof during === 'number' ? new Promise((r) => setTimeout(r, during)) : during;
  void finished.finally(() => {
    done = true;
  });
  const worker = async () => {
    while (!done) {
      const started = performance.now();
      await engine.search(unitVector(random), 5);
      latencies.push(performance.now() - started);
    }
  };
  const began = performance.now();
  await Promise.all([finished, ...Array.from({ length: CONCURRENCY }, worker)]);
  loop.disable();
  return { ...summarize(latencies), ms: performance.now() - began, loopMaxMs: loop.max / 1e6 };
}

export const reorgSuite: Suite = {
  name: 'reorg',
  title: 'Search latency across a compaction and a snapshot',
  async run(ctx) {
    // As in worker-node/main.ts: one OpenMP thread per FAISS worker. A compaction runs two FAISS
    // workers at once, and two spinning OpenMP pools on 2 cores would measure the pools, not the engine.
    process.env.OMP_NUM_THREADS ??= '1';
    const docs = Math.max(...ctx.sizes.datasets);
    const dir = mkdtempSync(join(tmpdir(), 'gte-bench-reorg-'));
    const random = mulberry32(41);
    // Compaction only when asked, so each phase is what it says.
    const engine = await SearchEngine.open({
      dataDir: dir,
      model: { id: 'bench-synthetic', checksum: 'none', dimension: DIM },
      factory: 'Flat',
      compaction: { ratio: Number.POSITIVE_INFINITY, minTombstones: Number.POSITIVE_INFINITY },
    });
    try {
      let ms = 1;
      const write = (from: number, to: number) => {
        const entries: ApplyEntry[] = [];
        for (let i = from; i < to; i++) {
          const vector = unitVector(random);
          entries.push({
            seq: `${ms++}-0`,
            op: 'upsert',
            id: `d${i}`,
            text: `doc ${i}`,
            metadata: {},
            vector,
          });
        }
        return engine.apply(entries);
      };
      ctx.progress(`  reorg: building ${formatCount(docs)} documents`);
      for (let i = 0; i < docs; i += 2000) await write(i, Math.min(docs, i + 2000));
      await engine.snapshot();
      const seconds = ctx.sizes.cellSeconds;
      ctx.progress(`  reorg: steady state, ${seconds} s at concurrency ${CONCURRENCY}`);
      const steady = await measure(engine, random, seconds * 1000);
      ctx.progress(`  reorg: rewriting a third of the corpus`);
      for (let i = 0; i < docs / 3; i += 2000) await write(i, Math.min(Math.floor(docs / 3), i + 2000));
      // One compaction of 100,000 documents is over in about a second: a few hundred searches,
      // whose p99 would be set by the one burst of searches that starts the phase. Compactions run
      // back to back for as long as the steady phase ran (the first one drops the rewritten
      // third's tombstones; each later one still reads every live passage, builds a new index and
      // renumbers every label), so every start and every swap is in the phase, and enough
      // searches beside them for a p99.
      ctx.progress(`  reorg: compactions back to back under search load for ${seconds} s`);
      let compactions = 0;
      const compactionLoop = (async () => {
        const until = Date.now() + seconds * 1000;
        while (Date.now() < until) {
          await engine.compact();
          compactions++;
        }
      })();
      const compaction = await measure(engine, random, compactionLoop);
      // Snapshots likewise, each after one write (else it is skipped as unchanged).
      ctx.progress(`  reorg: snapshots back to back under search load for ${seconds} s`);
      let snapshots = 0;
      const snapshotLoop = (async () => {
        const until = Date.now() + seconds * 1000;
        while (Date.now() < until) {
          await write(snapshots % docs, (snapshots % docs) + 1);
          if (await engine.snapshot()) snapshots++;
        }
      })();
      const snapshot = await measure(engine, random, snapshotLoop);
      const phases = [
        ['steady', steady],
        [`during compactions (${compactions} run)`, compaction],
        [`during snapshots (${snapshots} written)`, snapshot],
      ] as const;
      const rows = phases.map(([name, s]) => [
        name,
        (s.ms / 1000).toFixed(2),
        formatCount(s.n),
        formatMs(s.p50),
        formatMs(s.p99),
        formatRatio(ratio(s.p99, steady.p99)),
        formatMs(s.loopMaxMs),
      ]);
      const worst = Math.max(ratio(compaction.p99, steady.p99), ratio(snapshot.p99, steady.p99));
      return [
        `${formatCount(docs)} documents × ${DIM}-d, Flat, concurrency ${CONCURRENCY}, one engine in the bench process.`,
        '',
        markdownTable(
          ['phase', 'seconds', 'searches', 'p50 ms', 'p99 ms', 'p99 vs steady', 'event-loop max ms'],
          rows,
        ),
        '',
        `Goal: p99 during a compaction or a snapshot at most 2× steady: ${worst <= 2 ? 'met' : 'not met'} (worst ${formatRatio(worst)}).`,
      ].join('\n');
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
