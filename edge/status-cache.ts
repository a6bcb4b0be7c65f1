/**
 * Public status endpoints (/api/v1/status, /metrics, /status) answered from a copy at most
 * STATUS_CACHE_MS old, per isolate: a dashboard or scraper polling hard must not put a Durable
 * Object call on every request (the coordinator is also the one that probes and fails over).
 * Any admin change made through this isolate drops the copies, so an operator sees it at once.
 */
import type { ClusterStatus } from '../shared/edge-api.ts';
import type { MetricsSnapshot } from './coordinator/views.ts';
import { coordinator, type Env } from './env.ts';

export const STATUS_CACHE_MS = 500;

const copies = new Map<string, { at: number; value: Promise<unknown> }>();

async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const hit = copies.get(key);
  if (hit && now - hit.at < STATUS_CACHE_MS) return hit.value as Promise<T>;
  // Concurrent requests share one call; a failed call is not kept.
  const value = load();
  copies.set(key, { at: now, value });
  value.catch(() => copies.delete(key));
  return value;
}

export function cachedStatus(env: Env): Promise<ClusterStatus> {
  return cached('status', () => coordinator(env).status());
}

export function cachedMetrics(env: Env): Promise<MetricsSnapshot> {
  return cached('metrics', () => coordinator(env).metrics());
}

/** After an admin change (node registered or removed, switchover): the next read asks the coordinator. */
export function invalidateStatusCache(): void {
  copies.clear();
}
