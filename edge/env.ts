/**
 * The Worker's bindings (wrangler.toml) as one type. [vars] arrive as strings; edge/config.ts
 * turns them into numbers. ADMIN_TOKEN, CLUSTER_SECRET and API_KEYS are secrets (wrangler secret put).
 */
import type { ClusterCoordinator } from './coordinator/coordinator.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface Env {
  COORDINATOR: DurableObjectNamespace<ClusterCoordinator>;
  /** Workers Rate Limiting binding ([[ratelimits]] in wrangler.toml); absent: no per-client limit. */
  SEARCH_RATE_LIMITER?: RateLimiter;
  ADMIN_TOKEN?: string;
  CLUSTER_SECRET?: string;
  /** Search and embeddings keys, separated by commas or whitespace (a secret: wrangler secret put API_KEYS). */
  API_KEYS?: string;
  /** "true": the corpus is public, search and embeddings need no key. */
  PUBLIC_SEARCH?: string;
  PROBE_INTERVAL_MS?: string;
  PROBE_TIMEOUT_MS?: string;
  FAIL_THRESHOLD?: string;
  ACTIVATE_VERIFY_MS?: string;
  OVERLOAD_GPU_UTIL?: string;
  OVERLOAD_WINDOW_MS?: string;
  HEDGE_FLOOR_MS?: string;
  HEDGE_CAP_MS?: string;
  HEDGE_BUDGET_PERCENT?: string;
  READ_BALANCE_MAX_LAG_ENTRIES?: string;
  READ_BALANCE_MAX_BEHIND_MS?: string;
  READ_MASTER_WEIGHT?: string;
  ROUTING_RPC_TIMEOUT_MS?: string;
  ROUTING_STALE_MAX_MS?: string;
  /** debug (default), info, warn or error: lines below it are not written (edge/log.ts). */
  LOG_LEVEL?: string;
  /** "true" in tests only: the coordinator's test hooks (setRoutingFault) answer. */
  TEST_HOOKS?: string;
  /** JSON list of {id,url,priority} seeding the registry on first use; "" for none. */
  NODES?: string;
}

/** The one coordinator instance: all routing state is in one place, so there is one source of truth. */
export const COORDINATOR_NAME = 'cluster';

export function coordinator(env: Env): DurableObjectStub<ClusterCoordinator> {
  if (!env.COORDINATOR) {
    throw new Error(
      'COORDINATOR binding missing: add [[durable_objects.bindings]] name="COORDINATOR" class_name="ClusterCoordinator" to wrangler.toml',
    );
  }
  return env.COORDINATOR.getByName(COORDINATOR_NAME);
}
