/**
 * One search node, as a composition root: it wires the parts main.ts built (embedder, engine,
 * change log, ingest queue, GPU monitor) into the node's concerns and owns their lifecycle.
 *
 *   role-control.ts  activate / degrade / standby / step-down, one at a time
 *   write-path.ts    enqueue, wait levels, the ingest job processor
 *   replica.ts       the engine and its applier, swapped together by a resync
 *   health.ts        /health, /api/v1/info, /api/v1/diagnostics as pure functions of plain state
 *
 * The HTTP layer (app.ts, routes/) calls these parts; everything is callable from tests without HTTP.
 */
import type { NodeHealth, SearchHit, SearchRequest } from '../shared/schemas.ts';
import { VERSION } from '../shared/version.ts';
import type { RedisTopologyHealth } from '../shared/schemas.ts';
import type { NodeConfig } from './config.ts';
import { redisKeyPrefix } from './redis-connection.ts';
import type { QueryExpander } from './keyword/expansion.ts';
import { keywordQueryTerms } from './keyword/tokenize.ts';
import {
  type Lifecycle,
  type NodeState,
  type RecentErrors,
  nodeDiagnostics,
  nodeHealth,
  nodeInfo,
  nodeParts,
  applierBlocksReads,
} from './health.ts';
import { LaggingError } from './errors.ts';
import type { NodeLogger } from './log.ts';
import type {
  ApplierPort,
  ChangeLogPort,
  DiskPort,
  EmbedderPort,
  GpuPort,
  IngestQueuePort,
  ReplicaEngine,
} from './parts.ts';
import { LocalReplica } from './replica.ts';
import { seqTimeMs } from '../shared/stream-id.ts';
import { RoleControl } from './role-control.ts';
import { LoadMonitor } from './telemetry/load.ts';
import type { NodeMetrics } from './telemetry/metrics.ts';
import { WritePath } from './write-path.ts';

export interface SearchNodeParts {
  config: NodeConfig;
  embedder: EmbedderPort;
  engine: ReplicaEngine;
  openEngine: () => Promise<ReplicaEngine>;
  createApplier: (engine: ReplicaEngine) => ApplierPort;
  /** Copies a peer's database for a resync (replication/resync.ts). */
  copyFromPeer: () => Promise<unknown>;
  changeLog: ChangeLogPort;
  ingest: IngestQueuePort;
  /** Resolves once Redis answers (or soon after, if it does not). */
  redisReady: () => Promise<void>;
  /** Redis's topology, replicas and fence as last seen (replication/redis-watch.ts). */
  redisTopology?: () => RedisTopologyHealth;
  /** Reads Redis again now (after a fence raise: the view must not show the old fence for long). */
  refreshRedisTopology?: () => Promise<void>;
  /** Log entries applied out of epoch order since start (divergence; replication/applier.ts). */
  epochRegressions?: () => number;
  /** Closes the node's own Redis connections (the last step of stop()). */
  closeRedis: () => void;
  gpu: GpuPort;
  /** The data directory's write probe. */
  disk: DiskPort;
  errors: RecentErrors;
  /** Keyword query expansion from the model's word table; absent when the model has none. */
  queryExpander?: QueryExpander;
  logger: NodeLogger;
  metrics: NodeMetrics;
  /** What peers and the coordinator reach this node at (config.ts advertiseUrl). */
  advertiseUrl: string;
}

export type SearchTimings = Record<'queue' | 'embed' | 'search' | 'metadata', number>;

const NO_VECTOR = { vectors: [null], queueMs: 0, embedMs: 0 };
const TRIM_INTERVAL_MS = 10_000;
const TRIM_KEEP = 10_000;

export class SearchNode {
  readonly config: NodeConfig;
  readonly logger: NodeLogger;
  readonly metrics: NodeMetrics;
  readonly errors: RecentErrors;
  readonly ingest: IngestQueuePort;
  readonly load: LoadMonitor;
  readonly replica: LocalReplica;
  readonly roles: RoleControl;
  readonly writes: WritePath;
  /** Set by fault injection: forces `overloaded` in /health. */
  forcedOverload = false;
  private lifecycle: Lifecycle = 'starting';
  /** Jobs this node's writer gave up on, for /health (and so the status page). */
  private readonly failedJobs: NonNullable<NodeHealth['ingest']> = { failed_jobs: 0, last_failure: null };
  private trimTimer: NodeJS.Timeout | null = null;

  constructor(private readonly parts: SearchNodeParts) {
    const { config, embedder, changeLog, logger, metrics, errors } = parts;
    this.config = config;
    this.logger = logger;
    this.metrics = metrics;
    this.errors = errors;
    this.ingest = parts.ingest;
    this.load = new LoadMonitor(
      { inflight: config.OVERLOAD_INFLIGHT, loopLagMs: config.OVERLOAD_LOOP_LAG_MS },
      () => embedder.stats().queued,
      () => this.forcedOverload,
    );
    this.replica = new LocalReplica({
      engine: parts.engine,
      openEngine: parts.openEngine,
      createApplier: parts.createApplier,
      copyFromPeer: parts.copyFromPeer,
      logConnected: () => changeLog.connected,
      role: () => this.roles.current,
      snapshotIntervalMs: config.SNAPSHOT_INTERVAL_MS,
      logger,
      errors,
    });
    this.roles = new RoleControl({
      nodeId: config.NODE_ID,
      initial: this.replica.storedRole(),
      logger,
      effects: {
        fenceReachable: () => changeLog.connected,
        catchUp: () => this.replica.catchUp(),
        // The fence records its holder: at the same epoch only this node may append or take it again.
        takeFence: async (epoch) => {
          const fence = await changeLog.takeFence(epoch, config.NODE_ID);
          await parts.refreshRedisTopology?.().catch(() => undefined);
          return fence;
        },
        startWriter: () =>
          this.ingest.startWorker(this.writes.processJob, (job, err) => {
            metrics.ingestJobsFailed.inc();
            this.failedJobs.failed_jobs++;
            this.failedJobs.last_failure = {
              job_id: String(job.id),
              reason: err.message.slice(0, 300),
              at: Date.now(),
            };
            errors.note('ingest.job_failed', `job ${job.id}: ${err.message}`);
            logger.error('ingest.job_failed', {
              job_id: job.id,
              attempts: job.attemptsMade,
              error: err.message,
            });
          }),
        stopWriter: () => this.ingest.stopWorker(),
        persist: (role) => this.replica.persistRole(role),
        appliedSeq: () => this.replica.appliedSeq,
        changed: (role) => {
          metrics.epoch.set(role.epoch);
          metrics.isMaster.set(role.role === 'master' ? 1 : 0);
        },
        noteError: (event, detail) => errors.note(event, detail),
      },
    });
    this.writes = new WritePath({
      nodeId: config.NODE_ID,
      log: changeLog,
      queue: this.ingest,
      roles: this.roles,
      embedder,
      replica: this.replica,
      logger,
    });
  }

  async start(): Promise<void> {
    // Give Redis a moment to connect so the first log read does not fail noisily.
    await this.parts.redisReady();
    this.parts.gpu.start();
    await this.parts.disk.start();
    await this.replica.start();
    // Register so that trimming waits for this node, even before it applied anything.
    void this.parts.changeLog
      .registerNode(this.config.NODE_ID, this.parts.advertiseUrl)
      .catch((err: Error) => this.errors.note('register.failed', err.message));
    this.lifecycle = 'running';
  }

  async search(req: SearchRequest): Promise<{ results: SearchHit[]; timings: SearchTimings }> {
    // Refused before the embedder runs: a resync has the engine closed.
    this.replica.checkOpen();
    // Data too far behind the log (replaying a backlog, applier stuck) is not served: the edge
    // tries a node that is current.
    const state = this.state();
    const applier = nodeParts(state).applier;
    if (applierBlocksReads(applier, state.role.role)) throw new LaggingError(applier);
    // A keyword search needs no vector: it neither waits for nor loads the embedder.
    const embedded = req.mode === 'keyword' ? NO_VECTOR : await this.parts.embedder.embedTimed([req.query]);
    const options = {
      mode: req.mode,
      text: req.query,
      fusion: req.fusion ?? this.config.HYBRID_FUSION,
      rrfK: req.rrf_k ?? this.config.HYBRID_RRF_K,
      keywordWeight: req.keyword_weight ?? this.config.HYBRID_KEYWORD_WEIGHT,
      sectionWeight: this.config.KEYWORD_SECTION_WEIGHT,
      expansion:
        req.mode === 'vector' || !(req.expand ?? this.config.KEYWORD_EXPANSION)
          ? null
          : (this.parts.queryExpander?.expand(keywordQueryTerms(req.query)) ?? null),
    };
    const filter = req.filter?.metadata;
    const { hits, timings } = await this.replica.search(embedded.vectors[0]!, req.top_k, filter, options);
    return {
      results: hits.map((h) => ({
        id: h.doc.id,
        score: h.score,
        ...(req.include_text ? { text: h.doc.text } : {}),
        metadata: h.doc.metadata,
        passage: { text: h.doc.text.slice(h.passage.start, h.passage.end), ...h.passage },
      })),
      timings: {
        queue: embedded.queueMs,
        embed: embedded.embedMs,
        search: timings.searchMs,
        metadata: timings.metadataMs,
      },
    };
  }

  /** The plain state health.ts reads. */
  state(): NodeState {
    const c = this.config;
    return {
      node: this.config.NODE_ID,
      lifecycle: this.lifecycle,
      data: this.replica.state,
      role: this.roles.current,
      modelId: this.parts.embedder.info.id,
      index: this.replica.index(),
      lag: this.replica.lag(),
      stalledMs: this.replica.stalledMs(),
      redis: this.replica.redisState,
      redisTopology: this.parts.redisTopology?.(),
      epochRegressions: this.parts.epochRegressions?.() ?? 0,
      embedder: this.parts.embedder.health(),
      engine: this.replica.engineHealth(),
      disk: this.parts.disk.state,
      bounds: {
        maxLagEntries: c.READ_MAX_LAG_ENTRIES,
        maxLagMs: c.READ_MAX_LAG_MS,
        stallMs: c.APPLIER_STALL_MS,
      },
      gpu: this.parts.gpu.latest,
      load: this.load.snapshot(),
      ingest: { ...this.failedJobs },
    };
  }

  health(): NodeHealth {
    return nodeHealth(this.state());
  }

  /** Shutting down (health's `stopping`), without computing the whole health answer. */
  get stopping(): boolean {
    return this.lifecycle === 'stopping';
  }

  /** The vectors the index uses: the same embedder, the same pooling (POST /api/v1/embed). */
  embed(texts: string[]): Promise<Float32Array[]> {
    return this.parts.embedder.embed(texts);
  }

  info() {
    return nodeInfo({
      node: this.config.NODE_ID,
      version: VERSION,
      model: this.parts.embedder.info,
      index: this.replica.indexShape(),
      redisPrefix: redisKeyPrefix(this.config.REDIS_PREFIX),
    });
  }

  diagnostics() {
    return nodeDiagnostics({
      node: this.config.NODE_ID,
      role: this.roles.current,
      health: this.health(),
      recentErrors: this.errors.list(),
      gpuHistory: this.parts.gpu.history,
      memory: process.memoryUsage(),
      uptimeS: process.uptime(),
    });
  }

  refreshGauges(): void {
    const h = this.health();
    this.metrics.indexSize.set(h.index.size);
    this.metrics.embedQueue.set(h.load.queued);
    this.metrics.lagEntries.set(h.replication!.lag_entries);
    this.metrics.lagSeconds.set(h.replication!.lag_ms / 1000);
    this.metrics.appliedSeqMs.set(seqTimeMs(h.index.applied_seq));
    this.metrics.epoch.set(h.epoch);
  }

  /** Removes a node from the trim set (and its applied position): an operator removed it. */
  async forgetPeer(id: string): Promise<void> {
    await this.parts.changeLog.unregisterNode(id);
    this.logger.info('peer.removed', { peer: id });
  }

  /** Master housekeeping: trim what every registered node has applied (keeping some slack). */
  startTrimming(intervalMs = TRIM_INTERVAL_MS, keep = TRIM_KEEP): void {
    const log = this.parts.changeLog;
    this.trimTimer = setInterval(() => {
      if (this.roles.current.role !== 'master' || !log.connected) return;
      void log.trim(keep).catch((err: Error) => this.errors.note('trim.failed', err.message));
    }, intervalMs);
    this.trimTimer.unref();
  }

  /** SIGTERM: stop taking work, finish what is in flight, snapshot. */
  async stop(): Promise<void> {
    this.lifecycle = 'stopping';
    if (this.trimTimer) clearInterval(this.trimTimer);
    this.parts.gpu.stop();
    this.parts.disk.stop();
    await this.ingest.close();
    await this.replica.stop(() => this.parts.embedder.close());
    this.load.stop();
    this.parts.closeRedis();
  }
}
