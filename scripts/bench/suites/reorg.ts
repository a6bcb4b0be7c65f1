/**
 * Suite "reorg": what a compaction and a snapshot cost the searches running beside them. One
 * engine in this process (real SQLite, real FAISS worker threads, synthetic unit vectors, no
 * model), searched at concurrency 8 throughout; each search counts in the phase it started in,
 * and the phases take turns: steady state, while compactions rebuild the index, and while
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
const ROUNDS = 3;

function unitVector(random: Random): Float32Array {
  const v = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

type Phase = 'steady' | 'compaction' | 'snapshot' | 'between';

/**
 * One search load at CONCURRENCY for the whole run, each search counted in the phase it started
 * in, so no phase begins with a burst of searches started together. The event loop's worst delay
 * and the time are kept per phase too.
 */
class TaggedLoad {
  private phase: Phase = 'between';
  private since = performance.now();
  private stopped = false;
  private readonly loop = monitorEventLoopDelay({ resolution: 5 });
  private readonly workers: Promise<void>[];
  readonly latencies: Record<Phase, number[]> = { steady: [], compaction: [], snapshot: [], between: [] };
  readonly ms: Record<Phase, number> = { steady: 0, compaction: 0, snapshot: 0, between: 0 };
  readonly loopMaxMs: Record<Phase, number> = { steady: 0, compaction: 0, snapshot: 0, between: 0 };

  constructor(engine: SearchEngine, random: Random) {
    this.loop.enable();
    this.workers = Array.from({ length: CONCURRENCY }, async () => {
      while (!this.stopped) {
        const phase = this.phase;
        const started = performance.now();
        await engine.search(unitVector(random), 5);
        this.latencies[phase].push(performance.now() - started);
      }
    });
  }

  enter(phase: Phase): void {
    const now = performance.now();
    this.ms[this.phase] += now - this.since;
    this.loopMaxMs[this.phase] = Math.max(this.loopMaxMs[this.phase], this.loop.max / 1e6);
    this.loop.reset();
    this.phase = phase;
    this.since = now;
  }

  /** Runs `work` as `phase`, then a short settling time as 'between' (searches it left in flight). */
  async during<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    this.enter(phase);
    try {
      return await work();
    } finally {
      this.enter('between');
    }
  }

  summary(phase: Phase) {
    return { ...summarize(this.latencies[phase]), ms: this.ms[phase], loopMaxMs: this.loopMaxMs[phase] };
  }

  async stop(): Promise<void> {
    this.enter('between');
    this.stopped = true;
    await Promise.all(this.workers);
    this.loop.disable();
  }
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
      ctx.progress(`  reorg: rewriting a third of the corpus, compacting it away`);
      for (let i = 0; i < docs / 3; i += 2000) await write(i, Math.min(Math.floor(docs / 3), i + 2000));
      await engine.compact();
      // The three phases take turns, ROUNDS times, for `seconds` each in all, under one search
      // load, so a drift of the machine's speed lands on all three alike. Before each compaction
      // 2 % of the documents, at random, are rewritten (counted as neither phase): a compaction
      // reads every live passage and builds a new index from them whatever the tombstones, and
      // with tombstones spread through the labels it moves nearly every passage's label, as a
      // real one does. One compaction of 100,000 documents takes about a second, so they run one
      // after another until the phase has had its share of the time. Snapshots likewise, back to
      // back, each after one write (else it is skipped as unchanged).
      const slice = (seconds * 1000) / ROUNDS;
      const load = new TaggedLoad(engine, random);
      const settle = () => new Promise((r) => setTimeout(r, 100));
      let compactions = 0;
      let snapshots = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        ctx.progress(
          `  reorg: round ${round} of ${ROUNDS}: steady, compactions, snapshots, ${(slice / 1000).toFixed(1)} s each at concurrency ${CONCURRENCY}`,
        );
        await load.during('steady', () => new Promise((r) => setTimeout(r, slice)));
        await settle();
        const compactedBy = load.ms.compaction + slice;
        while (load.ms.compaction < compactedBy) {
          for (let i = 0; i < docs / 50; i += 100) {
            const at = Math.floor(random() * (docs - 100));
            await write(at, at + 100);
          }
          await settle();
          await load.during('compaction', () => engine.compact());
          compactions++;
          await settle();
        }
        await load.during('snapshot', async () => {
          const until = performance.now() + slice;
          while (performance.now() < until) {
            await write(snapshots % docs, (snapshots % docs) + 1);
            if (await engine.snapshot()) snapshots++;
          }
        });
        await settle();
      }
      await load.stop();
      const steady = load.summary('steady');
      const compaction = load.summary('compaction');
      const snapshot = load.summary('snapshot');
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
        `${formatCount(docs)} documents × ${DIM}-d, Flat, concurrency ${CONCURRENCY}, one engine in the bench process; the three phases take turns, ${ROUNDS} rounds of ${(slice / 1000).toFixed(1)} s each, and each row is all of its rounds together. One search load throughout, each search counted in the phase it started in; 2 % of the documents rewritten at random before each compaction (counted in no phase), so that it moves nearly every label.`,
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
