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
 * bound the edge answers 503 rather than route by a picture that old (./table-cache.ts).
 */
import { readReadPathConfig } from './config.ts';
import { coordinator, type Env } from './env.ts';
import { ApiError } from './http.ts';
import { log } from './log.ts';
import type { RoutingTable } from './router.ts';
import { type RoutingView, TableCache } from './table-cache.ts';

export type { RoutingView };

export const ROUTING_TTL_MS = 1000;

const cache = new TableCache(ROUTING_TTL_MS);

export async function getRouting(env: Env, options: { fresh?: boolean } = {}): Promise<RoutingView> {
  const config = readReadPathConfig(env as unknown as Record<string, unknown>);
  const view = await cache.get({
    load: () => coordinator(env).getRoutingTable(),
    ...(options.fresh ? { fresh: true } : {}),
    rpcTimeoutMs: config.routingRpcTimeoutMs,
    staleMaxMs: config.routingStaleMaxMs,
    onFailure: (error, age) =>
      log('error', 'worker', 'coordinator.unreachable', {
        error: String(error),
        ...(age !== null ? { last_good_age_ms: age } : {}),
      }),
  });
  if (view) return view;
  throw new ApiError(
    503,
    'coordinator_unavailable',
    'the cluster coordinator did not answer; retry in a moment',
  );
}

export async function getRoutingTable(env: Env, options: { fresh?: boolean } = {}): Promise<RoutingTable> {
  return (await getRouting(env, options)).table;
}

/** Forget the cached table (after a 409 or a failed write) so the next call asks the coordinator. */
export function invalidateRoutingTable(): void {
  cache.invalidate();
}
