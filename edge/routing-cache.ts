/**
 * The routing table as this isolate last saw it, kept at most ROUTING_TTL_MS.
 *
 * Module-level on purpose: it outlives a request, so a busy isolate asks the coordinator about
 * once a second instead of once per search. It carries the epoch, so a write stamped from it is
 * fenced correctly or refused with 409 (then `refresh` fetches a new one).
 *
 * The coordinator call has a deadline (ROUTING_RPC_TIMEOUT_MS). When it fails or times out, the
 * last good table keeps routing for up to ROUTING_STALE_MAX_MS, and the answer says so
 * (x-gte-routing: stale): healthy nodes keep serving through a coordinator hiccup. Past that
 * bound the edge answers 503 rather than route by a picture that old.
 */
import { readReadPathConfig } from './config.ts';
import { coordinator, type Env } from './env.ts';
import { ApiError } from './http.ts';
import { log } from './log.ts';
import type { RoutingTable } from './router.ts';

export const ROUTING_TTL_MS = 1000;

let cached: { table: RoutingTable; fetchedAt: number } | null = null;
/** The last table the coordinator gave, kept after invalidation as the fallback. */
let lastGood: { table: RoutingTable; fetchedAt: number } | null = null;

export interface RoutingView {
  table: RoutingTable;
  /** Age in ms of the table when it is the last good one (the coordinator did not answer); else null. */
  staleMs: number | null;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => timer !== undefined && clearTimeout(timer));
}

export async function getRouting(env: Env, options: { fresh?: boolean } = {}): Promise<RoutingView> {
  const now = Date.now();
  if (!options.fresh && cached && now - cached.fetchedAt < ROUTING_TTL_MS)
    return { table: cached.table, staleMs: null };
  const config = readReadPathConfig(env as unknown as Record<string, unknown>);
  try {
    const table = await withDeadline(coordinator(env).getRoutingTable(), config.routingRpcTimeoutMs);
    cached = { table, fetchedAt: Date.now() };
    lastGood = cached;
    return { table, staleMs: null };
  } catch (error) {
    const age = lastGood ? Date.now() - lastGood.fetchedAt : null;
    log('error', 'worker', 'coordinator.unreachable', {
      error: String(error),
      ...(age !== null ? { last_good_age_ms: age } : {}),
    });
    if (lastGood && age !== null && age <= config.routingStaleMaxMs)
      return { table: lastGood.table, staleMs: age };
    throw new ApiError(
      503,
      'coordinator_unavailable',
      'the cluster coordinator did not answer; retry in a moment',
    );
  }
}

export async function getRoutingTable(env: Env, options: { fresh?: boolean } = {}): Promise<RoutingTable> {
  return (await getRouting(env, options)).table;
}

/** Forget the cached table (after a 409 or a failed write) so the next call asks the coordinator. */
export function invalidateRoutingTable(): void {
  cached = null;
}

/** Tests only: forget the last good table too. */
export function resetRoutingCache(): void {
  cached = null;
  lastGood = null;
}
