/**
 * The routing table cache of ./routing-cache.ts without the Worker around it (no bindings, so
 * unit tests drive it with a plain function): a fresh copy for `ttlMs`; past that, a call with a
 * deadline; when the call fails or times out, the last good table for up to `staleMaxMs`, marked
 * with its age.
 */
import type { RoutingTable } from './router.ts';

export interface RoutingView {
  table: RoutingTable;
  /** Age in ms of the table when it is the last good one (the coordinator did not answer); else null. */
  staleMs: number | null;
}

export interface TableFetch {
  load: () => Promise<RoutingTable>;
  fresh?: boolean;
  rpcTimeoutMs: number;
  staleMaxMs: number;
  /** Told of each failed call, with the last good table's age (null: none). */
  onFailure?: (error: unknown, lastGoodAgeMs: number | null) => void;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => timer !== undefined && clearTimeout(timer));
}

export class TableCache {
  private cached: { table: RoutingTable; fetchedAt: number } | null = null;
  /** Kept after invalidate(): the fallback when the coordinator does not answer. */
  private lastGood: { table: RoutingTable; fetchedAt: number } | null = null;

  constructor(private readonly ttlMs: number) {}

  /** The view to route by, or null when the call failed and no good table is young enough. */
  async get(f: TableFetch): Promise<RoutingView | null> {
    const now = Date.now();
    if (!f.fresh && this.cached && now - this.cached.fetchedAt < this.ttlMs)
      return { table: this.cached.table, staleMs: null };
    try {
      const table = await withDeadline(f.load(), f.rpcTimeoutMs);
      this.cached = { table, fetchedAt: Date.now() };
      this.lastGood = this.cached;
      return { table, staleMs: null };
    } catch (error) {
      const age = this.lastGood ? Date.now() - this.lastGood.fetchedAt : null;
      f.onFailure?.(error, age);
      if (this.lastGood && age !== null && age <= f.staleMaxMs)
        return { table: this.lastGood.table, staleMs: age };
      return null;
    }
  }

  /** The next get() asks again (the last good table stays as the fallback). */
  invalidate(): void {
    this.cached = null;
  }

  reset(): void {
    this.cached = null;
    this.lastGood = null;
  }
}
