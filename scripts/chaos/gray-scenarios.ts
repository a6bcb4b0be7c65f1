/**
 * Gray failures: the node stays up but a part of it breaks (a worker thread dies, Redis is cut off
 * from the master alone, the disk fills), or the cluster does heavy routine work (compactions
 * under load, a standby replaced by an empty machine). Listed after the crash scenarios in
 * SCENARIOS (scenarios.ts); the same runner and checker judge them.
 */
import { closeSync, openSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { ChangeLog } from '../../worker-node/replication/change-log.ts';
import type { NodeHealth } from '../../shared/schemas.ts';
import type { Cluster } from '../cluster/launch.ts';
import type { NodeProcess } from '../cluster/node-process.ts';
import {
  clusterRedis,
  currentMaster,
  injectFault,
  nodeById,
  otherThan,
  sleep,
  waitConverged,
  waitStandby,
} from './cluster-ops.ts';
import { compactionGenerations, largestDocumentCount, logMark, logMentions } from './node-files.ts';
import type { Scenario, ScenarioContext } from './scenarios.ts';

type Part = 'embedder' | 'index' | 'redis' | 'disk';

async function healthOf(node: NodeProcess): Promise<NodeHealth | null> {
  try {
    const h = await node.client.health();
    return h.status === 200 || h.status === 503 ? h.body : null;
  } catch {
    return null;
  }
}

/** A part's state on /health (`parts`), or a stand-in from the older fields for a node without it. */
function partState(h: NodeHealth, part: Part): string {
  const parts = (h as { parts?: Record<string, string> }).parts;
  if (parts?.[part]) return parts[part];
  if (part === 'redis') return h.replication?.redis === 'up' ? 'ok' : 'unreachable';
  return h.ready ? 'ok' : 'not ready';
}

/**
 * Polls `node`'s /health every 50 ms for `forMs` (or, with `until`, until that holds, within
 * `forMs`); returns whether `part` was seen not ok at some point.
 */
async function watchPart(
  node: () => NodeProcess,
  part: Part,
  forMs: number,
  stopWhen?: (h: NodeHealth, sawDown: boolean) => boolean,
): Promise<boolean> {
  const end = Date.now() + forMs;
  let sawDown = false;
  while (Date.now() < end) {
    const h = await healthOf(node());
    if (h && partState(h, part) !== 'ok') sawDown = true;
    if (h && stopWhen?.(h, sawDown)) return sawDown;
    await sleep(50);
  }
  if (stopWhen) throw new Error(`${node().id}: ${part} did not come back within ${forMs} ms`);
  return sawDown;
}

/** The master's supervised worker thread is killed; the standby serves while it restarts. */
function workerCrash(part: 'embedder' | 'index', what: string): Scenario {
  return {
    name: `${part}-crash-master`,
    description: `the master's ${what} worker thread dies and is restarted by its supervisor: searches keep succeeding (the standby serves while the master is not ready)`,
    nodes: 2,
    privateRedis: true,
    failover: 'any',
    async inject({ cluster, before }) {
      await injectFault(nodeById(cluster, before.master), { crash_worker: part });
    },
    async recover({ cluster, before, violation, faultCleared, log }) {
      const started = Date.now();
      // Back once /health shows the part ok and the node ready (after it was seen down, or 5 s).
      const sawDown = await watchPart(
        () => nodeById(cluster, before.master),
        part,
        60_000,
        (h, down) => (down || Date.now() - started > 5000) && partState(h, part) === 'ok' && h.ready,
      );
      faultCleared();
      log(`${part} back after ${Date.now() - started} ms`);
      if (!sawDown) violation(`the master's /health never showed ${part} down after the crash`);
    },
  };
}

async function trimLog(cluster: Cluster): Promise<number> {
  const redis = clusterRedis(cluster);
  try {
    // The master's own trim (search-node.ts keeps 10,000 entries of slack), with no slack.
    return await new ChangeLog(redis, cluster.state.redis_prefix).trim(0);
  } finally {
    redis.disconnect();
  }
}

const FILLER = 'chaos-disk-filler';

/** Writes a file into `dir` until the file system is full; returns the bytes written. */
function fillDisk(dir: string): number {
  const fd = openSync(join(dir, FILLER), 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // The last partial chunk: fill the final bytes too.
    for (let size = chunk.length >> 1; size >= 512; size >>= 1) {
      try {
        written += writeSync(fd, chunk.subarray(0, size));
      } catch {
        /* smaller next */
      }
    }
    fsyncSync(fd);
    return written;
  } finally {
    closeSync(fd);
  }
}

let generationsBefore: Record<string, number> = {};

export const GRAY_SCENARIOS: Scenario[] = [
  workerCrash('embedder', 'ONNX session'),
  workerCrash('index', 'FAISS (the index is rebuilt from SQLite)'),
  {
    name: 'redis-cut-master',
    description:
      "Redis unreachable from the master only (its TCP proxy cut): searches keep succeeding, a failover may happen (the master's write path is broken), the old master rejoins once the proxy is restored",
    nodes: 2,
    privateRedis: true,
    redisProxies: true,
    failover: 'any',
    skipReason: (cluster) =>
      cluster.redisProxies.size > 0 ? null : 'the cluster was started without redisProxies',
    async inject({ cluster, before }) {
      await cluster.redisProxies.get(before.master)!.cut();
    },
    async recover({ cluster, before, holdMs, violation, faultCleared, log }) {
      const master = () => nodeById(cluster, before.master);
      const sawDown = await watchPart(master, 'redis', Math.max(holdMs, 3000));
      await cluster.redisProxies.get(before.master)!.restore();
      faultCleared();
      if (!sawDown) violation("the master's /health never showed Redis unreachable while its proxy was cut");
      const now = await currentMaster(cluster);
      log(`master after the cut: ${now.master} at epoch ${now.epoch}`);
      if (now.master === before.master)
        return void (await watchPart(
          master,
          'redis',
          30_000,
          (h) => partState(h, 'redis') === 'ok' && h.ready,
        ));
      try {
        await waitStandby(cluster, before.master, now.epoch, 30_000);
      } catch {
        // Reported, then undone so that the next scenario finds the cluster whole.
        const h = await healthOf(master());
        violation(
          `${before.master} did not rejoin as a standby within 30 s of Redis coming back (it reports ${h ? `${h.role} at epoch ${h.epoch}, write path ${(h as { write_path?: string }).write_path ?? '?'}` : 'nothing'}); restarted it`,
        );
        await cluster.restartNode(before.master);
        await waitStandby(cluster, before.master, now.epoch, 60_000);
      }
    },
  },
  {
    name: 'compaction-under-load',
    description:
      'heavy updates of the same 300 ids (several compactions on every node) while searches run: no failover, no foreign or wrong answer',
    nodes: 2,
    privateRedis: true,
    failover: 'forbidden',
    async inject({ cluster }) {
      generationsBefore = compactionGenerations(cluster.nodes);
    },
    async recover({ cluster, writes, violation, faultCleared, log }) {
      const started = Date.now();
      // A node compacts once its tombstones pass ~25-37 % of the index (worker-node/engine.ts), and
      // the cluster keeps every earlier run's documents: size the burst for three compactions of
      // the index as it is now (at most 0.6 of the live count, at least 1,500 tombstones each).
      const live = largestDocumentCount(cluster.nodes);
      const rounds = Math.max(15, Math.ceil((3 * Math.max(1500, 0.6 * live)) / 300) + 1);
      const acked = await writes.burst({ docs: 300, rounds, batch: 50, parallel: 2 });
      faultCleared();
      const refused = new Map<string, number>();
      for (const w of writes.records)
        if (!w.acked && w.startedAt >= started)
          refused.set(w.error ?? '?', (refused.get(w.error ?? '?') ?? 0) + 1);
      log(
        `burst: ${acked} acknowledged document writes in ${Date.now() - started} ms; not acknowledged: ${JSON.stringify(Object.fromEntries(refused))}`,
      );
      await waitConverged(cluster, 120_000);
      const after = compactionGenerations(cluster.nodes);
      for (const [id, gen] of Object.entries(after)) {
        const done = gen - (generationsBefore[id] ?? 0);
        log(`${id}: ${done} compaction(s)`);
        if (done < 2)
          violation(`${id} compacted ${done} time(s) during the burst; the scenario needs several`);
      }
    },
  },
  {
    name: 'standby-replaced-empty',
    description:
      'the log trimmed past its start, then the standby replaced by a fresh node (empty DATA_DIR, HOST=0.0.0.0, ADVERTISE_URL): it resyncs from a peer and serves; no failover',
    nodes: 2,
    privateRedis: true,
    failover: 'forbidden',
    async inject({ cluster, before, log }) {
      const removed = await trimLog(cluster);
      log(`trimmed ${removed} log entries`);
      if (removed === 0) throw new Error('nothing to trim: the log must hold applied entries');
      await otherThan(cluster, before.master)[0]!.stop();
    },
    async recover({ cluster, before, violation, log }) {
      const old = otherThan(cluster, before.master)[0]!;
      const logFrom = logMark(old.logPath);
      const fresh = await cluster.replaceNode(old.id, {
        HOST: '0.0.0.0',
        ADVERTISE_URL: `http://127.0.0.1:${old.port}`,
      });
      await waitStandby(cluster, fresh.id, before.epoch, 90_000);
      const h = await healthOf(fresh);
      log(`${fresh.id} replaced: ${h?.index.size ?? '?'} documents at ${h?.index.applied_seq ?? '?'}`);
      if (!logMentions(fresh.logPath, 'resync.done', logFrom))
        violation(`${fresh.id} started on an empty DATA_DIR but its log shows no resync from a peer`);
    },
  },
  {
    name: 'disk-full-master',
    description:
      "the master's DATA_DIR (a small tmpfs) fills up during ingest: writes answered 202 are applied or reported failed, searches keep succeeding, the master reports its disk part not ok",
    nodes: 2,
    privateRedis: true,
    tmpfsDataMb: 96,
    failover: 'any',
    skipReason: (cluster) =>
      cluster.tmpfs?.mounted
        ? null
        : cluster.tmpfs
          ? `needs tmpfs data directories, and ${cluster.tmpfs.reason}`
          : 'the cluster was started without tmpfsDataMb',
    async inject({ cluster, before, log }) {
      const dir = nodeById(cluster, before.master).dataDir;
      log(`filled ${before.master}'s data directory with ${Math.round(fillDisk(dir) / 2 ** 20)} MiB`);
    },
    async recover(ctx: ScenarioContext) {
      const { cluster, before, holdMs, violation, faultCleared } = ctx;
      const master = () => nodeById(cluster, before.master);
      try {
        // The disk probe runs every 5 s (worker-node/telemetry/disk.ts): give it two rounds.
        const sawDown = await watchPart(master, 'disk', Math.max(holdMs, 11_000));
        if (!sawDown) violation('the master never reported its disk part not ok while the disk was full');
      } finally {
        rmSync(join(master().dataDir, FILLER), { force: true });
        faultCleared();
      }
      await watchPart(master, 'disk', 30_000, (h) => partState(h, 'disk') === 'ok');
    },
  },
];
