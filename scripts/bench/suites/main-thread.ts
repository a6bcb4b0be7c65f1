/**
 * The health suite's measurement of what a search costs the event loop itself, apart from CPU
 * contention: an in-process engine (real SQLite, FAISS thread, keyword reader thread) answers a
 * burst of hybrid searches while the event loop's delay is sampled every 1 ms, once with the
 * keyword ranking on the main connection (where it ran before the keyword reader) and once
 * through the reader thread, alternating. A /health arriving during a search waits at most the
 * longest stall.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SearchEngine } from '../../../worker-node/engine.ts';
import { retrieve, type RetrievalSource } from '../../../worker-node/retrieval.ts';
import { mulberry32 } from '../../corpus/random.ts';
import { benchDocs, benchQueries } from '../../corpus/synthetic.ts';
import type { BenchContext } from '../context.ts';
import { formatCount, formatMs, markdownTable } from '../stats.ts';

const DIM = 100;
const CONCURRENCY = 8;

export async function mainThreadStalls(ctx: BenchContext, docs: number): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gte-bench-main-thread-'));
  const engine = await SearchEngine.open({
    dataDir,
    model: { id: 'bench-random', checksum: 'none', dimension: DIM },
    factory: 'Flat',
  });
  const random = mulberry32(5);
  const vector = () => Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  try {
    ctx.progress(`  main-thread stalls: applying ${formatCount(docs)} documents to an in-process engine`);
    for (let at = 0, seq = 1; at < docs; at += 1000) {
      const batch = benchDocs(at, Math.min(1000, docs - at));
      await engine.apply(batch.map((d) => ({ seq: `${seq++}-0`, op: 'upsert', ...d, vector: vector() })));
    }
    const queries = benchQueries(400, 17);
    // The engine's own source, less its reader: the ranking on the main connection.
    const onMain: RetrievalSource = {
      store: engine.store,
      factory: 'Flat',
      // biome-ignore lint/complexity/useLiteralKeys: the engine keeps its generation private
      generation: () => engine['gen'],
    };
    const ways = {
      'keyword ranking on the main thread': (q: string) =>
        retrieve(onMain, vector(), 5, undefined, { mode: 'hybrid', text: q }),
      'keyword ranking in the reader thread (now)': (q: string) =>
        engine.search(vector(), 5, undefined, { mode: 'hybrid', text: q }),
    };
    const stalls = new Map<string, { max: number[]; p99: number[]; ms: number; n: number }>();
    for (let round = 0; round < 4; round++) {
      for (const [name, search] of round % 2 === 0 ? Object.entries(ways) : Object.entries(ways).reverse()) {
        const delay = monitorEventLoopDelay({ resolution: 1 });
        let next = 0;
        const started = performance.now();
        delay.enable();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < queries.length / 2) await search(queries[(round * 200 + next++) % queries.length]!);
          }),
        );
        delay.disable();
        const s = stalls.get(name) ?? { max: [], p99: [], ms: 0, n: 0 };
        stalls.set(name, s);
        s.max.push(delay.max / 1e6);
        s.p99.push(delay.percentile(99) / 1e6);
        s.ms += performance.now() - started;
        s.n += queries.length / 2;
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rows = [...stalls].map(([name, s]) => [
      name,
      formatMs(median(s.p99)),
      formatMs(Math.max(...s.max)),
      formatCount((s.n / s.ms) * 1000),
    ]);
    return [
      `What a hybrid search costs the event loop: an in-process engine with ${formatCount(docs)} bench documents (random ${DIM}-d vectors), ` +
        `${CONCURRENCY} searches in flight, the event loop's delay sampled every 1 ms; 4 alternating rounds of 200 searches.`,
      '',
      markdownTable(
        ['keyword ranking', 'loop delay p99 ms (median round)', 'loop delay max ms', 'searches/s'],
        rows,
      ),
    ].join('\n');
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
