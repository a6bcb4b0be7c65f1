/**
 * The node's local copy of the data and the one owner of it: the engine (SQLite + index) and the
 * applier that follows the log into it. Everyone asks this owner, never a field someone swapped:
 * a resync (the log was trimmed past this node's position) closes both, copies a peer's
 * database, and opens new ones, and meanwhile every data call answers 503 `resynchronising`.
 */
import type { SearchEngine } from './engine.ts';
import { ResynchronisingError } from './errors.ts';
import type { DataState, RecentErrors } from './health.ts';
import type { NodeLogger } from './log.ts';
import type { ApplierPort, ReplicaEngine } from './parts.ts';
import type { RoleState } from './roles.ts';
import type { PartHealth } from './util/supervisor.ts';

export interface ReplicaOptions {
  engine: ReplicaEngine;
  /** Opens the engine again on the data directory (after a resync replaced its files). */
  openEngine: () => Promise<ReplicaEngine>;
  /** A new applier for `engine`, on a blocking connection of its own. */
  createApplier: (engine: ReplicaEngine) => ApplierPort;
  /** Copies the freshest peer's database into the data directory (replication/resync.ts). */
  copyFromPeer: () => Promise<unknown>;
  /** Whether the change log can be read now (at start, to check for a trimmed-away position). */
  logConnected: () => boolean;
  /** The role to keep across a resync: the copied database carries the peer's. */
  role: () => RoleState;
  snapshotIntervalMs: number;
  logger: NodeLogger;
  errors: RecentErrors;
}

const RESYNC_CHECK_MS = 200;
const RESYNC_RETRY_MS = 5000;

export class LocalReplica {
  private engine: ReplicaEngine;
  private applier: ApplierPort;
  private resyncing = false;
  /** True once the engine was closed for a resync and not yet reopened on the copied data. */
  private engineClosed = false;
  private stopped = false;
  /** The index as last seen open, for /health while a resync has the engine closed. */
  private lastIndex = { size: 0, applied_seq: '0-0' };
  private timers: NodeJS.Timeout[] = [];
  private lastEngineHealth: PartHealth = { state: 'ok', restarts: 0, last_error: null };

  constructor(private readonly opts: ReplicaOptions) {
    this.engine = opts.engine;
    this.applier = opts.createApplier(opts.engine);
    this.seen();
  }

  get state(): DataState {
    if (this.resyncing) return 'resynchronising';
    return this.applier.needsResync ? 'needs_resync' : 'open';
  }

  /** The role as the data last stored it (a restart keeps its epoch). */
  storedRole(): RoleState {
    const store = this.engine.store;
    return {
      role: 'standby',
      epoch: Number(store.getState('epoch') ?? 0),
      master: store.getState('master') ?? null,
    };
  }

  persistRole(role: RoleState): void {
    // While the engine is closed the reopen writes the role (it asks opts.role()).
    if (this.engineClosed) return;
    this.engine.store.setState('epoch', role.epoch);
    if (role.master) this.engine.store.setState('master', role.master);
  }

  /** Size and position, live, or as last seen open while a resync runs. */
  index(): { size: number; applied_seq: string } {
    if (!this.resyncing) this.seen();
    return { ...this.lastIndex };
  }

  get appliedSeq(): string {
    return this.index().applied_seq;
  }

  /** The highest write version applied here: the floor of the versions this node issues as master. */
  get maxWriteVersion(): number {
    return this.engineClosed ? 0 : this.engine.store.maxWriteVersion;
  }

  /** The vector index's type and label count (tombstones included), for /api/v1/info. */
  indexShape(): { type: string; size: number; labels: number } {
    return { type: this.engine.factory, size: this.index().size, labels: this.engine.indexSize };
  }

  lag(): { entries: number; ms: number } {
    return this.resyncing ? { entries: 0, ms: 0 } : this.applier.lag();
  }

  /** How long the applier applied nothing with the log tail ahead (0 while a resync runs). */
  stalledMs(): number {
    return this.resyncing ? 0 : this.applier.stalledMs();
  }

  /** The FAISS worker's supervision, as last seen open (a resync has the engine closed). */
  engineHealth(): PartHealth {
    if (this.resyncing) return this.lastEngineHealth;
    this.lastEngineHealth = this.engine.health();
    return this.lastEngineHealth;
  }

  /** Fault injection: kill the FAISS worker (its supervisor rebuilds the index). */
  crashIndex(): void {
    this.open().crashIndex();
  }

  get redisState(): 'up' | 'down' {
    return this.applier.redisState;
  }

  /** 503 while a resync has the engine closed (checked before work that would need it). */
  checkOpen(): void {
    this.open();
  }

  /** The engine, for a call that reads data; 503 while a resync has it closed. */
  private open(): ReplicaEngine {
    if (this.resyncing) throw new ResynchronisingError();
    return this.engine;
  }

  search(...args: Parameters<SearchEngine['search']>): ReturnType<SearchEngine['search']> {
    return this.open().search(...args);
  }

  getDocument(id: string) {
    return this.open().store.getDocument(id);
  }

  /** A consistent copy of the database into `file`; returns the position it holds. */
  async backupTo(file: string): Promise<{ appliedSeq: string }> {
    const engine = this.open();
    await engine.store.backupTo(file);
    return { appliedSeq: engine.appliedSeq };
  }

  catchUp(): Promise<number> {
    this.open();
    return this.applier.catchUp();
  }

  waitForApplied(seq: string, timeoutMs: number): Promise<void> {
    return this.applier.waitForApplied(seq, timeoutMs);
  }

  async snapshot(): Promise<void> {
    await this.open().snapshot();
  }

  /**
   * Before claiming ready: if the log was trimmed past our position while we were down, the data
   * we hold is stale beyond repair by replay, so resynchronise first (the check timer below).
   */
  async start(): Promise<void> {
    if (this.opts.logConnected())
      await this.applier
        .checkTrimmed()
        .catch((err: Error) => this.opts.errors.note('replication.check_failed', err.message));
    this.applier.start();
    this.every(RESYNC_CHECK_MS, () => {
      if (this.applier.needsResync && !this.resyncing) void this.resync();
    });
    this.every(this.opts.snapshotIntervalMs, () => {
      if (!this.resyncing)
        void this.snapshot().catch((err: Error) => this.opts.errors.note('snapshot.failed', err.message));
    });
  }

  /** Copy the freshest peer's database, reopen on it, and follow the log from the copied position. */
  async resync(): Promise<void> {
    // Stays true until the copied data is open, across retries.
    this.resyncing = true;
    try {
      if (!this.engineClosed) {
        this.seen();
        await this.applier.stop();
        this.engineClosed = true;
        await this.engine.close();
      }
      await this.opts.copyFromPeer();
      this.engine = await this.opts.openEngine();
      this.engineClosed = false;
      // The copied database carries the peer's role keys; this node stays what it was.
      this.persistRole(this.opts.role());
      this.applier = this.opts.createApplier(this.engine);
      this.applier.start();
      this.resyncing = false;
    } catch (err) {
      this.opts.errors.note('resync.failed', (err as Error).message);
      this.opts.logger.error('resync.failed', { error: (err as Error).message });
      // Try again later (a peer may come back); the node stays not-ready meanwhile.
      if (!this.stopped) setTimeout(() => void this.resync(), RESYNC_RETRY_MS).unref();
    }
  }

  /** Stops following the log, snapshots, closes the engine (unless a resync left it closed). */
  async stop(beforeClose: () => Promise<void> = async () => undefined): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.applier.stop();
    if (!this.engineClosed)
      await this.engine
        .snapshot()
        .catch((err: Error) => this.opts.logger.error('snapshot.failed', { error: err.message }));
    await beforeClose();
    if (!this.engineClosed) await this.engine.close();
  }

  private seen(): void {
    this.lastIndex = { size: this.engine.size, applied_seq: this.engine.appliedSeq };
  }

  private every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.timers.push(t);
  }
}
