/**
 * `npm run eval`: how well search finds what people ask for, measured end to end. Builds the
 * labelled set when missing (scripts/corpus/eval-set.ts, stored in .gte/eval/), starts one real
 * search node on its own Redis and data directory, ingests every document through the node's
 * write path (queue → embed → fenced log → apply, as production does), asks every question in
 * `vector`, `keyword` and `hybrid` mode, and prints recall@5, MRR@10 and nDCG@10 per category for
 * the tuning and the held-out split, then writes the same tables to BENCHMARKS.md.
 *
 *   npm run eval                    # the default model (.gte/models/glove-100d-demo)
 *   npm run eval -- --rebuild       # regenerate the set first
 *   npm run eval -- --no-write      # print only, leave BENCHMARKS.md alone
 *
 * Per-question rankings go to .gte/eval/last-run.json, to see where a mode fails (look at the
 * tuning split only: the held-out split must never inform a change).
 */
import { DEFAULT_FUSION, DEFAULT_KEYWORD_WEIGHT, DEFAULT_RRF_K } from '../../worker-node/keyword/fusion.ts';
import { DEFAULT_SECTION_WEIGHT } from '../../worker-node/metadata/keyword-tables.ts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLoad, machineInfo } from '../bench/machine.ts';
import { writeSections } from '../bench/report.ts';
import { ProgressBar } from '../cli/progress.ts';
import { ROOT, startNode } from '../cluster/node-process.ts';
import { startRedisServer } from '../cluster/redis-server.ts';
import { EVAL_CATEGORIES, type EvalDocument } from '../corpus/eval-set.ts';
import { LIMITS } from '../../shared/constants.ts';
import { EVAL_DIR, loadOrBuildEvalSet } from './dataset.ts';
import {
  EVAL_MODES,
  groupScores,
  heldOutVerdict,
  hybridMisses,
  type Rankings,
  scoresTable,
} from './report.ts';

const TOP_K = 10;
/** Upsert bodies stay well under the node's request limit even for 100,000-character handbooks. */
const BATCH_BYTES = LIMITS.maxBodyBytes / 2;
const INGEST_INFLIGHT = 2;
const SEARCH_INFLIGHT = 4;

const KNOWN_FLAGS = ['--rebuild', '--no-write'];

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Upsert batches of at most 256 documents and BATCH_BYTES of JSON, in set order. */
function batches(docs: readonly EvalDocument[]): EvalDocument[][] {
  const out: EvalDocument[][] = [];
  let cur: EvalDocument[] = [];
  let bytes = 0;
  for (const d of docs) {
    const size = Buffer.byteLength(JSON.stringify(d));
    if (cur.length > 0 && (cur.length >= LIMITS.docsPerRequest || bytes + size > BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(d);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Runs `work` over `items` with `inflight` at a time, in order of start. */
async function pool<T>(
  items: readonly T[],
  inflight: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The settings that shape keyword and hybrid rankings, as the node was started with them. */
function hybridSettings(): string {
  const setting = (name: string, fallback: string | number) =>
    `\`${name}=${process.env[name] ?? fallback}\`${process.env[name] === undefined ? ' (default)' : ''}`;
  return [
    setting('KEYWORD_SECTION_WEIGHT', DEFAULT_SECTION_WEIGHT),
    setting('HYBRID_KEYWORD_WEIGHT', DEFAULT_KEYWORD_WEIGHT),
    setting('HYBRID_FUSION', DEFAULT_FUSION),
    setting('HYBRID_RRF_K', DEFAULT_RRF_K),
  ].join(', ');
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const unknown = [...args].filter((a) => !KNOWN_FLAGS.includes(a));
  if (unknown.length > 0)
    throw new Error(`unknown option ${unknown.join(' ')} (known: ${KNOWN_FLAGS.join(' ')})`);
  const started = performance.now();
  const startedAt = new Date();
  const machine = machineInfo();
  const set = loadOrBuildEvalSet(log, EVAL_DIR, args.has('--rebuild'));
  const dir = mkdtempSync(join(tmpdir(), 'gte-eval-'));
  const redis = await startRedisServer({ dir: join(dir, 'redis'), tether: process.pid });
  const secret = randomBytes(24).toString('hex');
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    log('starting a search node');
    node = await startNode({
      id: 'eval',
      dataDir: join(dir, 'node'),
      redis: redis.url,
      redisPrefix: `eval-${randomBytes(4).toString('hex')}`,
      secret,
      logDir: EVAL_DIR,
      readyTimeoutMs: 300_000,
      env: { GTE_PARENT_PID: String(process.pid), LOG_LEVEL: 'warn' },
    });
    const act = await node.client.activate(1);
    if (act.status !== 200) throw new Error(`activate the node: ${act.status} ${JSON.stringify(act.body)}`);
    const info = await node.client.call<{ model?: { id?: string } }>('GET', '/api/v1/info');
    const modelId = info.body.model?.id ?? 'unknown';

    const ingestStarted = performance.now();
    const bar = new ProgressBar(process.stderr, 'ingest', set.documents.length, Date.now, 'documents');
    let ingested = 0;
    await pool(batches(set.documents), INGEST_INFLIGHT, async (batch) => {
      const res = await node!.client.upsert(batch, 1, 'applied');
      if (res.status !== 200)
        throw new Error(`ingest: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
      ingested += batch.length;
      bar.update(ingested, `${Math.round(ingested / ((performance.now() - ingestStarted) / 1000))} docs/s`);
    });
    bar.done();
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;

    const searchStarted = performance.now();
    const jobs = set.queries.flatMap((q) => EVAL_MODES.map((mode) => ({ q, mode })));
    const rankings = new Map<string, Rankings>(
      set.queries.map((q) => [q.id, { vector: [], keyword: [], hybrid: [] }]),
    );
    const sbar = new ProgressBar(process.stderr, 'search', jobs.length, Date.now, 'searches');
    let searched = 0;
    await pool(jobs, SEARCH_INFLIGHT, async ({ q, mode }) => {
      const res = await node!.client.call<{ results: { id: string }[] }>('POST', '/api/v1/search', {
        query: q.query,
        top_k: TOP_K,
        mode,
      });
      if (res.status !== 200)
        throw new Error(
          `search ${JSON.stringify(q.query)} (${mode}): ${res.status} ${JSON.stringify(res.body)}`,
        );
      rankings.get(q.id)![mode] = res.body.results.map((r) => r.id);
      sbar.update(++searched, '');
    });
    sbar.done();
    const searchSeconds = (performance.now() - searchStarted) / 1000;

    writeFileSync(
      join(EVAL_DIR, 'last-run.json'),
      `${JSON.stringify(
        set.queries.map((q) => ({ ...q, rankings: rankings.get(q.id) })),
        null,
        1,
      )}\n`,
    );
    const groups = groupScores(set.queries, rankings);
    const perCategory = EVAL_CATEGORIES.map((c) => {
      const qs = set.queries.filter((q) => q.category === c);
      return `${c} ${qs.length} (${qs.filter((q) => q.split === 'heldout').length} held out)`;
    }).join(', ');
    const chars = set.documents.reduce((n, d) => n + d.text.length, 0);
    const longest = Math.max(...set.documents.map((d) => d.text.length));
    const body = [
      '## Retrieval quality: recall@5, MRR@10, nDCG@10 by search mode',
      '',
      `\`npm run eval\` · ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} · ${Math.round((performance.now() - started) / 1000)} s · ${machine.nproc} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node} · load average at start ${formatLoad(machine.loadAverage)}`,
      '',
      `Set: scripts/corpus/eval-set.ts (seed ${set.seed}, generator v${set.version}): ${set.documents.length.toLocaleString('en-US')} documents (${(chars / 1e6).toFixed(1)} M characters, the longest ${longest.toLocaleString('en-US')}), ${set.queries.length} questions: ${perCategory}. One search node, model \`${modelId}\`, every document ingested through the node's write path (${ingestSeconds.toFixed(1)} s, ${Math.round(set.documents.length / ingestSeconds)} docs/s), then every question asked in each mode with top_k ${TOP_K} (${jobs.length} searches in ${searchSeconds.toFixed(1)} s). Node settings: ${hybridSettings()}. The best mode of each measure is in bold.`,
      '',
      '### Held-out split (never used to tune anything)',
      '',
      scoresTable(groups, 'heldout'),
      '',
      ...heldOutVerdict(groups).map((l) => `- ${l}`),
      '',
      '### Tuning split',
      '',
      scoresTable(groups, 'tuning'),
      '',
      'Where hybrid leaves the answer out of its top 5 (tuning split only), and which single mode had it in its own top 5:',
      '',
      hybridMisses(set.queries, rankings),
    ].join('\n');
    process.stdout.write(`\n${body}\n`);
    if (!args.has('--no-write')) {
      writeSections(join(ROOT, 'BENCHMARKS.md'), [{ key: 'eval', body }]);
      log('BENCHMARKS.md: eval section written');
    }
  } finally {
    await node?.stop(10_000).catch(() => undefined);
    await redis.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`eval failed: ${err instanceof Error ? err.stack : String(err)}`);
    log(`the search node's log: ${join(EVAL_DIR, 'eval.log')}`);
    process.exit(1);
  },
);
