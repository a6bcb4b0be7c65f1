/**
 * The routing table as this isolate last saw it, kept at most ROUTING_TTL_MS.
 *
 * Module-level on purpose: it outlives a request, so a busy isolate asks the coordinator about
 * once a second instead of once per search. It carries the epoch, so a write stamped from it is
 * fenced correctly or refused with 409 (then `refresh` fetches a new one).
 */
import { coordinator, type Env } from './env.ts';
import { ApiError } from './http.ts';
import { log } from './log.ts';
import type { RoutingTable } from './router.ts';

export const ROUTING_TTL_MS = 1000;

let cached: { table: RoutingTable; fetchedAt: number } | null = null;

export async function getRoutingTable(env: Env, options: { fresh?: boolean } = {}): Promise<RoutingTable> {
  const now = Date.now();
  if (!options.fresh && cached && now - cached.fetchedAt < ROUTING_TTL_MS) return cached.table;
  try {
    const table = await coordinator(env).getRoutingTable();
    cached = { table, fetchedAt: now };
    return table;
  } catch (error) {
    log('error', 'worker', 'coordinator.unreachable', { error: String(error) });
    throw new ApiError(
      503,
      'coordinator_unavailable',
      'the cluster coordinator did not answer; retry in a moment',
    );
  }
}

/** Forget the cached table (after a 409 or a failed write) so the next call asks the coordinator. */
export function invalidateRoutingTable(): void {
  cached = null;
}
