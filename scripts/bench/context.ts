/**
 * What every suite shares within one run: a private redis-server, a temporary folder, the cluster
 * secret, progress output, the corpus sizes for this mode (full or --quick), and the prepared
 * datasets (data directories ingested once through a real node's log and copied per use).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { signRequest } from '../../shared/signing.ts';
import type { Cluster } from '../cluster/launch.ts';
import { startNode, type NodeProcess } from '../cluster/node-process.ts';
import { dropPrefix, startRedisServer, type RedisServer } from '../cluster/redis-server.ts';
import { benchDocs } from '../corpus/synthetic.ts';
import { perSecond } from './stats.ts';

export interface BenchSizes {
  /** Dataset sizes for the search suite; the largest is also the node suite's corpus. */
  datasets: number[];
  /** Seconds of load per measured cell. */
  cellSeconds: number;
  /** Interleaved rounds per comparison. */
  rounds: number;
  /** kill -9 drills per failover series. */
  kills: number;
  /** Single-document replication lag samples. */
  lagSamples: number;
  /** Documents for the replication throughput measurement. */
  replicationDocs: number;
  /** Documents in the small clusters (edge, failover). */
  clusterDocs: number;
}

export const FULL: BenchSizes = {
  datasets: [1000, 10_000, 100_000],
  cellSeconds: 6,
  rounds: 2,
  kills: 20,
  lagSamples: 200,
  replicationDocs: 10_240,
  clusterDocs: 2048,
};
export const QUICK: BenchSizes = {
  datasets: [500, 1000, 3000],
  cellSeconds: 2,
  rounds: 1,
  kills: 3,
  lagSamples: 40,
  replicationDocs: 1024,
  clusterDocs: 512,
};

export interface DatasetBuild {
  /** size → a data directory template holding that many documents (copy it before use). */
  templates: Map<number, string>;
  docs: number;
  ms: number;
  docsPerSec: number;
  /** Concurrent upsert requests in flight while ingesting. */
  inflight: number;
}

export interface BenchContext {
  quick: boolean;
  sizes: BenchSizes;
  /** `--n`: the vector count of the in-process index suites (exact, peers), when given. */
  vectors?: number;
  dir: string;
  logDir: string;
  redis: RedisServer;
  secret: string;
  progress(msg: string): void;
  /** A node process on a fresh Redis prefix (unless given), stopped by cleanup() if still running. */
  startNode(opts: {
    id: string;
    dataDir: string;
    prefix?: string;
    env?: Record<string, string>;
    readyTimeoutMs?: number;
  }): Promise<NodeProcess>;
  /** The datasets, built once per run (the first caller pays). */
  datasets(): Promise<DatasetBuild>;
  /** A fresh copy of the `size` dataset at `dest`. */
  copyDataset(size: number, dest: string): Promise<void>;
  cleanup(): Promise<void>;
}

export const UPSERT_BATCH = 256;

/** Upserts the first `count` bench documents through the edge, UPSERT_BATCH a request, at `wait`. */
export async function ingestThroughEdge(
  cluster: Pick<Cluster, 'adminFetch'>,
  count: number,
  wait: 'applied' | 'replicated',
): Promise<void> {
  for (let i = 0; i < count; i += UPSERT_BATCH) {
    const res = await cluster.adminFetch('/api/v1/documents', {
      method: 'POST',
      json: { documents: benchDocs(i, Math.min(UPSERT_BATCH, count - i)), wait },
    });
    if (res.status !== 200) throw new Error(`ingest through the edge: ${res.status} ${await res.text()}`);
  }
}
/** Upserts in flight while ingesting: enough to keep the node's queue busy between requests. */
const INGEST_INFLIGHT = 4;

export async function createContext(opts: {
  quick: boolean;
  vectors?: number;
  progress: (msg: string) => void;
}): Promise<BenchContext> {
  const dir = mkdtempSync(join(tmpdir(), 'gte-bench-'));
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const redis = await startRedisServer({ dir: join(dir, 'redis'), tether: process.pid });
  const running = new Set<NodeProcess>();
  let built: Promise<DatasetBuild> | null = null;
  const ctx: BenchContext = {
    quick: opts.quick,
    sizes: opts.quick ? QUICK : FULL,
    vectors: opts.vectors,
    dir,
    logDir,
    redis,
    secret: randomBytes(24).toString('hex'),
    progress: opts.progress,
    async startNode(o) {
      const proc = await startNode({
        id: o.id,
        dataDir: o.dataDir,
        redis: redis.url,
        redisPrefix: o.prefix ?? uniquePrefix(),
        secret: ctx.secret,
        logDir,
        readyTimeoutMs: o.readyTimeoutMs ?? 300_000,
        env: { GTE_PARENT_PID: String(process.pid), LOG_LEVEL: 'warn', ...o.env },
      });
      running.add(proc);
      void proc.exited.then(() => running.delete(proc));
      return proc;
    },
    datasets() {
      built ??= buildDatasets(ctx);
      return built;
    },
    async copyDataset(size, dest) {
      const { templates } = await ctx.datasets();
      const from = templates.get(size);
      if (!from)
        throw new Error(`no dataset of ${size} documents (have ${[...templates.keys()].join(', ')})`);
      rmSync(dest, { recursive: true, force: true });
      cpSync(from, dest, { recursive: true });
    },
    async cleanup() {
      await Promise.allSettled([...running].map((n) => n.stop(5000)));
      await redis.stop().catch(() => undefined);
      if (process.env.GTE_KEEP_BENCH_DATA !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
  return ctx;
}

export function uniquePrefix(): string {
  return `bench-${randomBytes(4).toString('hex')}`;
}

/**
 * Ingests the largest dataset through a real master node (upserts of 256 with wait "applied", a
 * few in flight, like a production bulk load), taking a consistent copy of the database at each
 * smaller size on the way (GET /api/v1/snapshot); the largest is the node's own directory after a
 * graceful stop, so it carries the index snapshot too. The smaller copies rebuild their index on
 * open, which takes seconds at those sizes.
 */
async function buildDatasets(ctx: BenchContext): Promise<DatasetBuild> {
  const sizes = [...ctx.sizes.datasets].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1]!;
  const root = join(ctx.dir, 'datasets');
  const prefix = uniquePrefix();
  // Built at the event loop's priority: what the suites measure is serving, and on a shared machine
  // lowered compute threads would wait behind every other process.
  const master = await ctx.startNode({
    id: 'ingest',
    dataDir: join(root, 'ingest'),
    prefix,
    env: { WORKER_THREAD_NICE: '0' },
  });
  const act = await master.client.activate(1);
  if (act.status !== 200)
    throw new Error(`activate the ingest node: ${act.status} ${JSON.stringify(act.body)}`);
  const templates = new Map<number, string>();
  const started = performance.now();
  let sent = 0;
  let done = 0;
  let lastReport = 0;
  /** Time spent copying checkpoints, left out of the throughput. */
  let pausedMs = 0;
  const checkpoints = sizes.slice(0, -1);
  // A batch that would cross a checkpoint is cut to end on it; then no one sends until the
  // requests in flight are done and the copy is taken, so each copy holds exactly its size.
  let holding: Promise<void> | null = null;
  const worker = async () => {
    for (;;) {
      while (holding) await holding;
      const start = sent;
      if (start >= largest) return;
      const cp = checkpoints.find((c) => c > start);
      const count = Math.min(UPSERT_BATCH, (cp ?? largest) - start);
      sent += count;
      let release: (() => void) | null = null;
      if (start + count === cp) holding = new Promise<void>((r) => (release = r));
      const res = await master.client.upsert(benchDocs(start, count), 1, 'applied');
      if (res.status !== 200)
        throw new Error(`ingest batch at ${start}: ${res.status} ${JSON.stringify(res.body)}`);
      done += count;
      if (release && cp !== undefined) {
        while (done < sent) await new Promise((r) => setTimeout(r, 10));
        const dest = join(root, String(cp));
        const copyStarted = performance.now();
        await downloadSnapshot(master, ctx.secret, dest);
        pausedMs += performance.now() - copyStarted;
        templates.set(cp, dest);
        holding = null;
        (release as () => void)();
      }
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        ctx.progress(
          `  ingested ${done.toLocaleString('en-US')} / ${largest.toLocaleString('en-US')} documents (${Math.round(perSecond(done, performance.now() - started))} docs/s)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: INGEST_INFLIGHT }, worker));
  const ms = performance.now() - started - pausedMs;
  await master.stop();
  templates.set(largest, join(root, 'ingest'));
  await dropPrefix(ctx.redis.url, prefix);
  return { templates, docs: largest, ms, docsPerSec: perSecond(largest, ms), inflight: INGEST_INFLIGHT };
}

async function downloadSnapshot(node: NodeProcess, secret: string, dest: string): Promise<void> {
  const path = '/api/v1/snapshot';
  const res = await fetch(`${node.url}${path}`, {
    headers: await signRequest(secret, 'GET', path, '', { node: node.id }),
    signal: AbortSignal.timeout(120_000),
  });
  if (!res.ok) throw new Error(`snapshot from ${node.id}: HTTP ${res.status}`);
  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, 'metadata.sqlite'), Buffer.from(await res.arrayBuffer()));
}
