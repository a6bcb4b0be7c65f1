/**
 * One search node: the embedder, the engine (SQLite + FAISS), the change log and its applier, the
 * ingest queue, and the role the coordinator gave it. The HTTP layer (app.ts) is a thin skin over
 * these methods; everything here is callable from tests without HTTP.
 */
import { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import type { Job } from 'bullmq';
import type { NodeConfig } from './config.ts';
import type { Embedder } from './embedder/index.ts';
import { SearchEngine } from './engine.ts';
import {
  IngestQueue,
  type IngestJobData,
  type IngestJobResult,
  type IngestOp,
} from './ingest/ingest-queue.ts';
import type { NodeLogger } from './log.ts';
import { Applier } from './replication/applier.ts';
import { ChangeLog, StaleEpochError, type LogOp } from './replication/change-log.ts';
import { resyncFromPeer } from './replication/resync.ts';
import { compareSeq, seqTimeMs } from './replication/seq.ts';
import { decideTransition, type RoleState } from './roles.ts';
import { GpuMonitor } from './telemetry/gpu.ts';
import { LoadMonitor } from './telemetry/load.ts';
import type { NodeMetrics } from './telemetry/metrics.ts';
import type { ActivateResult, NodeHealth, SearchHit, SearchRequest, WaitLevel } from '../shared/schemas.ts';

export class ControlError extends Error {
  constructor(
    readonly status: 409 | 503 | 504,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const EMBED_BATCH = 64;

export class SearchNode {
  readonly gpu = new GpuMonitor();
  readonly load: LoadMonitor;
  readonly log: ChangeLog;
  applier: Applier;
  readonly ingest: IngestQueue;
  /** Recent warnings and errors, for /api/v1/diagnostics (and so for failover reports). */
  readonly recentErrors: { at: string; event: string; detail: string }[] = [];
  private roleState: RoleState;
  private stopping = false;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private trimTimer: NodeJS.Timeout | null = null;
  private readonly redis: Redis;
  private blockingRedis: Redis;
  private resyncing = false;
  /** True once the engine was closed for a resync and not yet reopened on the copied data. */
  private engineClosed = false;
  /** False until start() has checked the log: a node whose position was trimmed away is not ready. */
  private started = false;
  /** The index as last seen open, for /health while a resync has the engine closed. */
  private lastIndex = { size: 0, applied_seq: '0-0' };
  private resyncTimer: NodeJS.Timeout | null = null;
  /** Set by fault injection (issue 6): forces `overloaded` in /health. */
  forcedOverload = false;

  constructor(
    readonly config: NodeConfig,
    readonly embedder: Embedder,
    public engine: SearchEngine,
    readonly logger: NodeLogger,
    readonly metrics: NodeMetrics,
    readonly publicUrl: string,
  ) {
    this.redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false });
    this.blockingRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    for (const r of [this.redis, this.blockingRedis])
      r.on('error', (err: Error) => this.noteError('redis.error', err.message));
    this.log = new ChangeLog(this.redis, config.REDIS_PREFIX);
    this.applier = new Applier(
      this.log,
      this.blockingRedis,
      engine,
      config.NODE_ID,
      logger,
      embedder.info.id,
    );
    this.ingest = new IngestQueue(config.REDIS_URL, config.REDIS_PREFIX);
    this.load = new LoadMonitor(
      { inflight: config.OVERLOAD_INFLIGHT, loopLagMs: config.OVERLOAD_LOOP_LAG_MS },
      () => embedder.stats().queued,
      () => this.forcedOverload,
    );
    const store = engine.store;
    this.roleState = {
      role: 'standby',
      epoch: Number(store.getState('epoch') ?? 0),
      master: store.getState('master') ?? null,
    };
  }

  get role(): RoleState {
    return { ...this.roleState };
  }

  noteError(event: string, detail: string): void {
    this.recentErrors.push({ at: new Date().toISOString(), event, detail: detail.slice(0, 500) });
    if (this.recentErrors.length > 50) this.recentErrors.shift();
  }

  async start(): Promise<void> {
    // Give Redis a moment to connect so the first log read does not fail noisily.
    await Promise.race([
      new Promise((r) => this.redis.once('ready', r)),
      new Promise((r) => setTimeout(r, 2000)),
    ]);
    this.gpu.start();
    // Before claiming ready: if the log was trimmed past our position while we were down, the
    // data we hold is stale beyond repair by replay, so resynchronise first (resyncTimer below).
    if (this.log.connected)
      await this.applier
        .checkTrimmed()
        .catch((err: Error) => this.noteError('replication.check_failed', err.message));
    this.applier.start();
    // Register so that trimming waits for this node, even before it applied anything.
    void this.log
      .registerNode(this.config.NODE_ID, this.publicUrl)
      .catch((err: Error) => this.noteError('register.failed', err.message));
    this.resyncTimer = setInterval(() => {
      if (this.applier.needsResync && !this.resyncing) void this.resync();
    }, 200);
    this.resyncTimer.unref();
    this.snapshotTimer = setInterval(() => {
      if (!this.resyncing)
        void this.snapshot().catch((err: Error) => this.noteError('snapshot.failed', err.message));
    }, this.config.SNAPSHOT_INTERVAL_MS);
    this.snapshotTimer.unref();
    this.started = true;
  }

  /** Whether a resync is in progress (the engine may be closed: data endpoints answer 503). */
  get resynchronising(): boolean {
    return this.resyncing;
  }

  /**
   * The log was trimmed past this node's position: copy the freshest peer's database, reopen the
   * engine on it, and follow the log again from the copied position.
   */
  async resync(): Promise<void> {
    // Stays true until the copied data is open, across retries: the engine is closed meanwhile,
    // so /health must say not-ready and the data endpoints 503 (not touch a closed database).
    this.resyncing = true;
    try {
      if (!this.engineClosed) {
        this.lastIndex = { size: this.engine.size, applied_seq: this.engine.appliedSeq };
        await this.applier.stop();
        this.engineClosed = true;
        await this.engine.close();
      }
      await resyncFromPeer({
        nodeId: this.config.NODE_ID,
        dataDir: this.config.dataDir,
        secret: this.config.CLUSTER_SECRET,
        log: this.log,
        logger: this.logger,
      });
      const model = {
        id: this.embedder.info.id,
        checksum: this.embedder.info.checksum,
        dimension: this.embedder.info.dimension,
      };
      this.engine = await SearchEngine.open({
        dataDir: this.config.dataDir,
        model,
        factory: this.config.INDEX_FACTORY,
        onLog: this.logger.info,
      });
      this.engineClosed = false;
      // The copied database carries the peer's role keys; this node stays what it was.
      this.engine.store.setState('epoch', this.roleState.epoch);
      this.blockingRedis = this.blockingRedis.duplicate();
      this.blockingRedis.on('error', (err: Error) => this.noteError('redis.error', err.message));
      this.applier = new Applier(
        this.log,
        this.blockingRedis,
        this.engine,
        this.config.NODE_ID,
        this.logger,
        this.embedder.info.id,
      );
      this.applier.start();
      this.resyncing = false;
    } catch (err) {
      this.noteError('resync.failed', (err as Error).message);
      this.logger.error('resync.failed', { error: (err as Error).message });
      // Try again later (a peer may come back); the node stays not-ready meanwhile.
      if (!this.stopping) setTimeout(() => void this.resync(), 5000).unref();
    }
  }

  // ---- search ------------------------------------------------------------------------------

  async search(
    req: SearchRequest,
  ): Promise<{ results: SearchHit[]; timings: Record<'queue' | 'embed' | 'search' | 'metadata', number> }> {
    if (this.resyncing)
      throw new ControlError(
        503,
        'resynchronising',
        "this node is copying a peer's data; retry on another node",
      );
    const embedded = await this.embedder.embedTimed([req.query]);
    const { hits, timings } = await this.engine.search(embedded.vectors[0]!, req.top_k, req.filter?.metadata);
    return {
      results: hits.map((h) => ({
        id: h.doc.id,
        score: h.score,
        text: h.doc.text,
        metadata: h.doc.metadata,
      })),
      timings: {
        queue: embedded.queueMs,
        embed: embedded.embedMs,
        search: timings.searchMs,
        metadata: timings.metadataMs,
      },
    };
  }

  // ---- writes (master only) ----------------------------------------------------------------

  /** Enqueues upserts/deletes; with a wait level, answers once that level is reached. */
  async write(
    ops: IngestOp[],
    wait: WaitLevel,
    timeoutMs = 30_000,
  ): Promise<{
    job_id: string;
    accepted: number;
    status: 'queued' | 'applied' | 'replicated';
    seq?: string;
  }> {
    // A master that was deposed without hearing of it learns it here: the fence moved on.
    const fence = await this.log.fence().catch(() => {
      throw new ControlError(
        503,
        'redis_unavailable',
        'Redis is unreachable: writes are refused until it is back (searches still work)',
      );
    });
    if (fence !== this.roleState.epoch) {
      const err = new StaleEpochError(this.roleState.epoch, fence);
      await this.stepDown(err);
      throw new ControlError(409, 'stale_epoch', err.message);
    }
    const job = await this.ingest.enqueue({ ops, accepted_at: Date.now() });
    const base = { job_id: String(job.id), accepted: ops.length };
    if (wait === 'none') return { ...base, status: 'queued' };
    const deadline = Date.now() + timeoutMs;
    let result: IngestJobResult;
    try {
      result = await this.ingest.waitFinished(job, timeoutMs);
    } catch (err) {
      throw new ControlError(
        504,
        'wait_timeout',
        `job ${job.id} accepted but not finished within ${timeoutMs} ms (${(err as Error).message}); poll /api/v1/jobs/${job.id}`,
      );
    }
    await this.applier.waitForApplied(result.seq, Math.max(1, deadline - Date.now())).catch(() => {
      throw new ControlError(
        504,
        'wait_timeout',
        `job ${job.id} appended at ${result.seq} but not applied here in time; poll /api/v1/jobs/${job.id}`,
      );
    });
    if (wait === 'applied') return { ...base, status: 'applied', seq: result.seq };
    await this.waitReplicated(result.seq, deadline, String(job.id));
    return { ...base, status: 'replicated', seq: result.seq };
  }

  /** Resolves once at least one other registered node has applied `seq`. */
  private async waitReplicated(seq: string, deadline: number, jobId: string): Promise<void> {
    while (Date.now() < deadline) {
      const applied = await this.log.appliedPositions();
      if (
        Object.entries(applied).some(
          ([node, pos]) => node !== this.config.NODE_ID && compareSeq(pos, seq) >= 0,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new ControlError(
      504,
      'not_replicated',
      `job ${jobId} applied on the master at ${seq} but no standby applied it in time; is a standby running?`,
    );
  }

  /** The BullMQ processor: embed in batches, append under this node's epoch. */
  private readonly processJob = async (
    job: Job<IngestJobData, IngestJobResult>,
  ): Promise<IngestJobResult> => {
    const { ops } = job.data;
    let seq = this.engine.appliedSeq;
    for (let i = 0; i < ops.length; i += EMBED_BATCH) {
      const chunk = ops.slice(i, i + EMBED_BATCH);
      const upserts = chunk.filter((o): o is Extract<IngestOp, { op: 'upsert' }> => o.op === 'upsert');
      const vectors = upserts.length > 0 ? await this.embedder.embed(upserts.map((o) => o.text)) : [];
      let v = 0;
      const logOps: LogOp[] = chunk.map((o) => (o.op === 'upsert' ? { ...o, vector: vectors[v++]! } : o));
      const epoch = this.roleState.epoch;
      if (this.roleState.role !== 'master')
        throw new Error(
          `node ${this.config.NODE_ID} is no longer master; the job is retried by the next master`,
        );
      try {
        const ids = await this.log.append(epoch, this.embedder.info.id, logOps);
        seq = ids[ids.length - 1] ?? seq;
      } catch (err) {
        if (err instanceof StaleEpochError) await this.stepDown(err);
        throw err;
      }
      await job.updateProgress(Math.round(((i + chunk.length) / ops.length) * 100));
    }
    return { seq, appended: ops.length };
  };

  /** The fence moved past us: someone else is master. Stop writing at once. */
  private async stepDown(err: StaleEpochError): Promise<void> {
    this.logger.warn('role.deposed', { fence: err.fence, epoch: err.epoch });
    this.noteError('role.deposed', err.message);
    this.setRole({ role: 'degraded', epoch: this.roleState.epoch, master: null });
    void this.ingest.stopWorker();
  }

  // ---- control calls from the coordinator -------------------------------------------------

  private setRole(next: RoleState): void {
    const store = this.engine.store;
    store.setState('epoch', next.epoch);
    if (next.master) store.setState('master', next.master);
    this.roleState = next;
    this.metrics.epoch.set(next.epoch);
    this.metrics.isMaster.set(next.role === 'master' ? 1 : 0);
    this.logger.info('role.changed', { role: next.role, master: next.master });
  }

  /** Catch up to the log tail, take the fence, become master. Idempotent per epoch. */
  async activate(epoch: number): Promise<ActivateResult> {
    const decision = decideTransition(this.roleState, { to: 'master', epoch, self: this.config.NODE_ID });
    if (decision.kind === 'stale')
      throw new ControlError(
        409,
        'stale_epoch',
        `activate with epoch ${epoch}, this node is already at epoch ${decision.current}`,
      );
    const started = Date.now();
    if (!this.log.connected)
      throw new ControlError(
        503,
        'redis_unavailable',
        'cannot activate while Redis is unreachable: the fence lives there',
      );
    const replayed = await this.applier.catchUp();
    const fence = await this.log.takeFence(epoch);
    if (fence > epoch)
      throw new ControlError(
        409,
        'stale_epoch',
        `the fence is already at epoch ${fence}; activate with ${epoch} refused`,
      );
    // Entries the old master appended between our catch-up and the fence are applied by the
    // applier like any other; writes from us follow them in the log.
    if (decision.kind === 'apply') this.setRole(decision.next);
    this.ingest.startWorker(this.processJob);
    const catchUpMs = Date.now() - started;
    this.logger.info('role.activated', {
      catch_up_ms: catchUpMs,
      replayed,
      applied_seq: this.engine.appliedSeq,
    });
    return {
      node: this.config.NODE_ID,
      role: 'master',
      epoch,
      applied_seq: this.engine.appliedSeq,
      catch_up_ms: catchUpMs,
      replayed,
    };
  }

  async degrade(epoch: number): Promise<RoleState> {
    const decision = decideTransition(this.roleState, {
      to: 'degraded',
      epoch,
      self: this.config.NODE_ID,
      master: null,
    });
    if (decision.kind === 'stale')
      throw new ControlError(
        409,
        'stale_epoch',
        `degrade with epoch ${epoch}, this node is at epoch ${decision.current}`,
      );
    await this.ingest.stopWorker();
    if (decision.kind === 'apply') this.setRole(decision.next);
    return this.role;
  }

  async standby(epoch: number, master: string | null): Promise<RoleState> {
    const decision = decideTransition(this.roleState, {
      to: 'standby',
      epoch,
      self: this.config.NODE_ID,
      master,
    });
    if (decision.kind === 'stale')
      throw new ControlError(
        409,
        'stale_epoch',
        `standby with epoch ${epoch}, this node is at epoch ${decision.current}`,
      );
    await this.ingest.stopWorker();
    if (decision.kind === 'apply') this.setRole(decision.next);
    return this.role;
  }

  // ---- state -------------------------------------------------------------------------------

  health(): NodeHealth {
    // While a resync has the engine closed, report the index as it was last seen open.
    if (!this.resyncing) this.lastIndex = { size: this.engine.size, applied_seq: this.engine.appliedSeq };
    const lag = this.resyncing ? { entries: 0, ms: 0 } : this.applier.lag();
    const ready = this.started && !this.stopping && !this.resyncing && !this.applier.needsResync;
    return {
      status: this.stopping
        ? 'stopping'
        : ready
          ? this.roleState.role === 'degraded'
            ? 'degraded'
            : 'ok'
          : 'starting',
      node: this.config.NODE_ID,
      role: this.roleState.role,
      epoch: this.roleState.epoch,
      ready,
      model: { id: this.embedder.info.id, loaded: true },
      index: { ...this.lastIndex },
      replication: { lag_entries: lag.entries, lag_ms: lag.ms, redis: this.applier.redisState },
      gpu: this.gpu.latest,
      load: this.load.snapshot(),
    };
  }

  info() {
    const e = this.embedder.info;
    return {
      node: this.config.NODE_ID,
      version: '0.1.0',
      model: {
        id: e.id,
        checksum: e.checksum,
        dimension: e.dimension,
        pooling: e.pooling,
        max_length: e.maxLength,
        device: e.device,
      },
      index: {
        type: this.engine.factory,
        metric: 'inner_product',
        size: this.resyncing ? this.lastIndex.size : this.engine.size,
        labels: this.engine.indexSize,
      },
      redis_prefix: this.config.REDIS_PREFIX,
    };
  }

  diagnostics() {
    return {
      node: this.config.NODE_ID,
      role: this.role,
      health: this.health(),
      recent_errors: this.recentErrors.slice(-30),
      oom_or_cuda_errors: this.recentErrors
        .filter((e) => /out of memory|CUDA|cudnn|OOM/i.test(e.detail))
        .slice(-10),
      gpu_history: this.gpu.history.slice(-60),
      memory: process.memoryUsage(),
      uptime_s: Math.round(process.uptime()),
    };
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

  async snapshot(): Promise<void> {
    await this.engine.snapshot();
  }

  /** Master housekeeping: trim what every registered node has applied (keeping some slack). */
  startTrimming(intervalMs = 10_000, keep = 10_000): void {
    this.trimTimer = setInterval(() => {
      if (this.roleState.role !== 'master' || !this.log.connected) return;
      void this.log.trim(keep).catch((err: Error) => this.noteError('trim.failed', err.message));
    }, intervalMs);
    this.trimTimer.unref();
  }

  /** SIGTERM: stop taking work, finish what is in flight, snapshot. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    if (this.trimTimer) clearInterval(this.trimTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.gpu.stop();
    await this.ingest.close();
    await this.applier.stop();
    if (!this.engineClosed)
      await this.engine
        .snapshot()
        .catch((err: Error) => this.logger.error('snapshot.failed', { error: err.message }));
    await this.embedder.close();
    if (!this.engineClosed) await this.engine.close();
    this.load.stop();
    this.redis.disconnect();
  }

  static ensureDataDir(dir: string): void {
    mkdirSync(dir, { recursive: true });
  }
}
