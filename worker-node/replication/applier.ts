/**
 * Follows the change log and applies it to the engine, on every node (the master included):
 * one code path for all writes. Reads with a blocking XREAD on a connection of its own, applies
 * in batches, publishes the applied position to Redis (for the master's `wait: "replicated"` and
 * for trimming), and wakes local waiters (`wait: "applied"`).
 *
 * When Redis is unreachable it keeps retrying with backoff; the node goes on serving searches
 * from what it has.
 */
import type { RedisClient } from '../redis-connection.ts';
import type { SearchEngine } from '../engine.ts';
import type { NodeLogger } from '../log.ts';
import { ChangeLog } from './change-log.ts';
import { compareSeq, seqTimeMs } from '../../shared/stream-id.ts';

class TrimmedPastError extends Error {}

export interface ApplierOptions {
  log: ChangeLog;
  /** A connection of its own for the blocking XREAD; stop() disconnects it. */
  blockingRedis: RedisClient;
  engine: Pick<SearchEngine, 'appliedSeq' | 'apply'>;
  nodeId: string;
  logger: NodeLogger;
  /** Entries embedded by another model are refused (mixing vector spaces corrupts the index). */
  expectedModel: string;
  /** Counts applied entries (gte_node_applied_entries_total). */
  appliedEntries?: { inc(n: number): void };
  /**
   * An entry whose epoch is below one applied before it: the fence went back (Redis lost a raise)
   * and a deposed master wrote again. Applied like any entry (every node does the same, so they
   * stay alike; versions keep a newer write of a document), but never silently.
   */
  onEpochRegression?: (seq: string, epoch: number, previous: number) => void;
}

interface Waiter {
  seq: string;
  resolve: () => void;
}

export class Applier {
  private running = false;
  private loop: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private tailSeq = '0-0';
  /** The oldest entry not yet applied, as of the last tail check (null: none, or not known). */
  private oldestPending: string | null = null;
  private pendingEstimate = 0;
  /** Entries applied since the last tail check (the estimate above counts down by them). */
  private appliedSinceCheck = 0;
  /** When the applier last applied something or saw itself caught up (for stalledMs). */
  private progressAt = Date.now();
  /** The highest epoch applied by this applier: entry epochs must never go below it. */
  private appliedEpoch = 0;
  private readonly blockingLog: ChangeLog;
  private readonly log: ChangeLog;
  private readonly blockingRedis: RedisClient;
  private readonly engine: ApplierOptions['engine'];
  private readonly nodeId: string;
  private readonly logger: NodeLogger;
  private readonly expectedModel: string;
  /** Set when the log was trimmed past our position: the node must resynchronise from a peer. */
  needsResync = false;

  constructor(private readonly opts: ApplierOptions) {
    this.log = opts.log;
    this.blockingRedis = opts.blockingRedis;
    this.engine = opts.engine;
    this.nodeId = opts.nodeId;
    this.logger = opts.logger;
    this.expectedModel = opts.expectedModel;
    this.blockingLog = new ChangeLog(this.blockingRedis, this.log.prefix);
  }

  get redisState(): 'up' | 'down' {
    return this.log.connected ? 'up' : 'down';
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.blockingRedis.disconnect();
    await this.loop;
  }

  /**
   * Lag behind the log tail, as last seen: entries and the age of the oldest unapplied one. An
   * idle standby that was caught up for an hour is not an hour behind when one entry arrives:
   * the age is that entry's, not the last applied one's.
   */
  lag(): { entries: number; ms: number } {
    const applied = this.engine.appliedSeq;
    if (compareSeq(this.tailSeq, applied) <= 0) return { entries: 0, ms: 0 };
    const pending = this.oldestPending;
    // Past the oldest pending entry already: the next one is no older than what was applied.
    const since =
      pending && compareSeq(pending, applied) > 0 ? pending : applied === '0-0' ? this.tailSeq : applied;
    return {
      entries: Math.max(1, this.pendingEstimate - this.appliedSinceCheck),
      ms: Math.max(0, Date.now() - seqTimeMs(since)),
    };
  }

  /** How long nothing was applied while the log tail was ahead (0 when caught up). */
  stalledMs(now = Date.now()): number {
    if (compareSeq(this.tailSeq, this.engine.appliedSeq) <= 0) return 0;
    return Math.max(0, now - this.progressAt);
  }

  /** Resolves once the local engine has applied `seq` (or rejects after `timeoutMs`). */
  waitForApplied(seq: string, timeoutMs: number): Promise<void> {
    if (compareSeq(this.engine.appliedSeq, seq) >= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`entry ${seq} not applied within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Applies everything up to the current tail (used by activation). Returns entries replayed. */
  async catchUp(): Promise<number> {
    let replayed = 0;
    const target = await this.log.tail();
    this.tailSeq = target;
    while (compareSeq(this.engine.appliedSeq, target) < 0) {
      const n = await this.pullOnce(undefined);
      if (n === 0) break;
      replayed += n;
    }
    return replayed;
  }

  /** Sets `needsResync` when the log was trimmed past this node's position; returns it. */
  async checkTrimmed(): Promise<boolean> {
    const after = this.engine.appliedSeq;
    const trimmed = await this.log.trimmedThrough();
    if (compareSeq(after, trimmed) < 0) this.needsResync = true;
    return this.needsResync;
  }

  private async pullOnce(blockMs: number | undefined): Promise<number> {
    const after = this.engine.appliedSeq;
    if (await this.checkTrimmed())
      throw new TrimmedPastError(
        `log trimmed through ${await this.log.trimmedThrough()}, this node has applied only ${after}`,
      );
    const entries =
      blockMs === undefined
        ? await this.log.readAfter(after, 512)
        : await this.blockingLog.readAfter(after, 512, blockMs);
    if (entries.length === 0) return 0;
    for (const e of entries) {
      if (e.model && e.model !== this.expectedModel) {
        throw new Error(
          `log entry ${e.seq} was embedded by model ${e.model}, this node runs ${this.expectedModel}; refusing to mix vector spaces`,
        );
      }
    }
    for (const e of entries) {
      if (e.epoch < this.appliedEpoch) {
        this.logger.error('replication.epoch_regressed', {
          seq: e.seq,
          epoch: e.epoch,
          previous: this.appliedEpoch,
        });
        this.opts.onEpochRegression?.(e.seq, e.epoch, this.appliedEpoch);
      }
      this.appliedEpoch = Math.max(this.appliedEpoch, e.epoch);
    }
    await this.engine.apply(entries.map((e) => e.entry));
    this.progressAt = Date.now();
    this.appliedSinceCheck += entries.length;
    this.opts.appliedEntries?.inc(entries.length);
    const applied = this.engine.appliedSeq;
    if (compareSeq(applied, this.tailSeq) > 0) this.tailSeq = applied;
    await this.log.reportApplied(this.nodeId, applied);
    this.wake();
    return entries.length;
  }

  /** Where the tail is, how many entries are pending and how old the oldest of them is. */
  private async checkTail(): Promise<void> {
    const applied = this.engine.appliedSeq;
    const tail = await this.log.tail();
    const behind = compareSeq(tail, applied) > 0;
    const [pending, oldest] = behind
      ? await Promise.all([this.log.countBetween(applied, tail, 10_000), this.log.firstAfter(applied)])
      : [0, null];
    this.tailSeq = tail;
    this.pendingEstimate = pending;
    this.oldestPending = oldest;
    this.appliedSinceCheck = 0;
    if (!behind) this.progressAt = Date.now();
  }

  private wake(): void {
    const applied = this.engine.appliedSeq;
    const ready = this.waiters.filter((w) => compareSeq(applied, w.seq) >= 0);
    this.waiters = this.waiters.filter((w) => compareSeq(applied, w.seq) < 0);
    for (const w of ready) w.resolve();
  }

  private async run(): Promise<void> {
    let backoff = 50;
    let lastTailCheck = 0;
    while (this.running) {
      try {
        if (Date.now() - lastTailCheck > 500) {
          await this.checkTail();
          lastTailCheck = Date.now();
          await this.log.reportApplied(this.nodeId, this.engine.appliedSeq);
        }
        await this.pullOnce(1000);
        backoff = 50;
      } catch (err) {
        if (!this.running) break;
        if (err instanceof TrimmedPastError) {
          this.logger.warn('replication.trimmed_past', { error: (err as Error).message });
          this.running = false;
          break;
        }
        // Time without Redis is not a stall (the log cannot be read); an error with Redis up is.
        if (!this.log.connected) this.progressAt = Date.now();
        this.logger.warn('replication.read_failed', { error: (err as Error).message, retry_ms: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }
}
