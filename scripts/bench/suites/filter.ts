/**
 * Suite "filter": what a metadata filter costs a search, by selectivity. One engine in this
 * process (real SQLite, real FAISS Flat worker, synthetic unit vectors, no model), 100,000
 * documents (10,000 with --quick), searched one at a time, unfiltered and with filters matching
 * 50 %, 1 %, 0.01 %, exactly one and no document. Selective filters run as a SQLite pre-filter
 * (worker-node/retrieval.ts), the others as a post-filter over FAISS candidates. Goal: p50 of
 * every filtered search at most 3× the unfiltered one, in vector and hybrid mode, and the single
 * matching document found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataFilter } from '../../../shared/search-filter.ts';
import { SearchEngine } from '../../../worker-node/engine.ts';
import type { ApplyEntry } from '../../../worker-node/metadata/store.ts';
import { mulberry32, type Random } from '../../corpus/random.ts';
import { formatCount, formatMs, formatRatio, markdownTable, ratio, summarize } from '../stats.ts';
import type { Suite } from '../suite.ts';

const DIM = 384;
const WORDS = ['invoice', 'travel', 'vpn', 'payroll', 'laptop', 'contract', 'refund', 'backup'];

function unitVector(random: Random): Float32Array {
  const v = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function metadataOf(i: number): Record<string, unknown> {
  return {
    half: i % 2 === 0 ? 'even' : 'odd',
    percent: i % 100,
    rare: i % 10_000 === 0,
    ...(i === 4242 ? { needle: 'yes' } : {}),
  };
}

const CASES: { name: string; filter?: MetadataFilter; share: string }[] = [
  { name: 'unfiltered', share: '100 %' },
  { name: 'half = even', filter: { half: 'even' }, share: '50 %' },
  { name: 'percent < 1', filter: { percent: { $lt: 1 } }, share: '1 %' },
  { name: 'rare = true', filter: { rare: true }, share: '0.01 %' },
  { name: 'needle = yes', filter: { needle: 'yes' }, share: 'one document' },
  { name: 'half = none', filter: { half: { $in: ['none'] } }, share: '0 %' },
];

export const filterSuite: Suite = {
  name: 'filter',
  title: 'Filtered search cost by selectivity',
  async run(ctx) {
    process.env.OMP_NUM_THREADS ??= '1';
    const docs = ctx.quick ? 10_000 : 100_000;
    const dir = mkdtempSync(join(tmpdir(), 'gte-bench-filter-'));
    const random = mulberry32(43);
    const engine = await SearchEngine.open({
      dataDir: dir,
      model: { id: 'bench-synthetic', checksum: 'none', dimension: DIM },
      factory: 'Flat',
    });
    try {
      ctx.progress(`  filter: building ${formatCount(docs)} documents × ${DIM}-d`);
      let ms = 1;
      for (let from = 0; from < docs; from += 2000) {
        const entries: ApplyEntry[] = [];
        for (let i = from; i < Math.min(docs, from + 2000); i++)
          entries.push({
            seq: `${ms++}-0`,
            op: 'upsert',
            id: `d${i}`,
            text: `document ${i} about ${WORDS[i % WORDS.length]} and ${WORDS[(i * 7) % WORDS.length]}`,
            metadata: metadataOf(i),
            vector: unitVector(random),
          });
        await engine.apply(entries);
      }
      const searches = Math.max(30, ctx.sizes.cellSeconds * 20);
      const rows: string[][] = [];
      let worst = 0;
      let needleFound = true;
      for (const mode of ['vector', 'hybrid'] as const) {
        let base = 0;
        for (const c of CASES) {
          const latencies: number[] = [];
          for (let i = 0; i < searches; i++) {
            const started = performance.now();
            const { hits } = await engine.search(unitVector(random), 5, c.filter, {
              mode,
              text: `${WORDS[i % WORDS.length]} document`,
            });
            latencies.push(performance.now() - started);
            if (c.filter?.needle && hits.map((h) => h.doc.id).join() !== 'd4242') needleFound = false;
          }
          const s = summarize(latencies);
          if (!c.filter) base = s.p50;
          else worst = Math.max(worst, ratio(s.p50, base));
          rows.push([
            mode,
            c.name,
            c.share,
            formatMs(s.p50),
            formatMs(s.p99),
            formatRatio(ratio(s.p50, base)),
          ]);
        }
      }
      const met = worst <= 3 && needleFound;
      return [
        `${formatCount(docs)} documents × ${DIM}-d, Flat, top 5, ${searches} searches per row one at a time, one engine in the bench process (no embedding).`,
        '',
        markdownTable(['mode', 'filter', 'matches', 'p50 ms', 'p99 ms', 'p50 vs unfiltered'], rows),
        '',
        `Goal: every filtered p50 at most 3× unfiltered, and the one matching document found: ${met ? 'met' : 'not met'} (worst ${formatRatio(worst)}${needleFound ? '' : ', the single match was missed'}).`,
      ].join('\n');
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
