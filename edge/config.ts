/**
 * The edge's tunables, read from wrangler.toml [vars] (strings) into numbers once per call.
 *
 * Pure: takes the env record, returns plain data, so the detector and the failover machine get
 * the same numbers in unit tests as in workerd. A bad value throws a message that names the
 * variable and what it accepts (fix it in wrangler.toml [vars]).
 */

export interface EdgeConfig {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  failThreshold: number;
  activateVerifyMs: number;
  overloadGpuUtil: number;
  overloadWindowMs: number;
}

export const DEFAULT_CONFIG: EdgeConfig = {
  probeIntervalMs: 2000,
  probeTimeoutMs: 500,
  failThreshold: 3,
  activateVerifyMs: 10_000,
  overloadGpuUtil: 98,
  overloadWindowMs: 10_000,
};

const VARS: VarSpec<EdgeConfig> = {
  probeIntervalMs: { name: 'PROBE_INTERVAL_MS', min: 50, max: 600_000 },
  probeTimeoutMs: { name: 'PROBE_TIMEOUT_MS', min: 10, max: 60_000 },
  failThreshold: { name: 'FAIL_THRESHOLD', min: 1, max: 100 },
  activateVerifyMs: { name: 'ACTIVATE_VERIFY_MS', min: 100, max: 600_000 },
  overloadGpuUtil: { name: 'OVERLOAD_GPU_UTIL', min: 1, max: 100 },
  overloadWindowMs: { name: 'OVERLOAD_WINDOW_MS', min: 0, max: 3_600_000 },
};

type VarSpec<T> = Record<keyof T, { name: string; min: number; max: number }>;

function readVars<T extends object>(env: Record<string, unknown>, defaults: T, vars: VarSpec<T>): T {
  const config = { ...defaults };
  for (const key of Object.keys(vars) as (keyof T)[]) {
    const { name, min, max } = vars[key];
    const raw = env[name];
    if (raw === undefined || raw === null || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(
        `${name}=${JSON.stringify(raw)} is invalid: expected a number from ${min} to ${max} (set it in wrangler.toml [vars])`,
      );
    }
    (config as Record<keyof T, number>)[key] = value;
  }
  return config;
}

/** Reads the numeric vars; an absent or empty var takes its default from ARCHITECTURE.md section 8. */
export function readConfig(env: Record<string, unknown>): EdgeConfig {
  return readVars(env, DEFAULT_CONFIG, VARS);
}

/** The read path's tunables (edge/upstream.ts, edge/hedge.ts, edge/router.ts readOrder). */
export interface ReadPathConfig {
  hedgeFloorMs: number;
  hedgeCapMs: number;
  hedgeBudgetPercent: number;
  /** A standby serves balanced reads only while at most this many log entries behind. */
  readMaxLagEntries: number;
  /** READ_BALANCE_MAX_BEHIND_MS: how far a standby's position may trail the master's (router.ts). */
  readMaxBehindMs: number;
  /** The master's share weight against a standby's 100 (e.g. 50: half the reads of a standby). */
  readMasterWeight: number;
  /** How long the coordinator gets to answer a routing-table call before the last good table is used. */
  routingRpcTimeoutMs: number;
  /** How old the last good table may get while the coordinator does not answer. */
  routingStaleMaxMs: number;
}

export const DEFAULT_READ_PATH: ReadPathConfig = {
  hedgeFloorMs: 40,
  hedgeCapMs: 250,
  hedgeBudgetPercent: 10,
  readMaxLagEntries: 100,
  readMaxBehindMs: 250,
  readMasterWeight: 100,
  routingRpcTimeoutMs: 500,
  routingStaleMaxMs: 30_000,
};

const READ_VARS: VarSpec<ReadPathConfig> = {
  hedgeFloorMs: { name: 'HEDGE_FLOOR_MS', min: 1, max: 60_000 },
  hedgeCapMs: { name: 'HEDGE_CAP_MS', min: 1, max: 60_000 },
  hedgeBudgetPercent: { name: 'HEDGE_BUDGET_PERCENT', min: 0, max: 100 },
  readMaxLagEntries: { name: 'READ_BALANCE_MAX_LAG_ENTRIES', min: 0, max: 1_000_000_000 },
  readMaxBehindMs: { name: 'READ_BALANCE_MAX_BEHIND_MS', min: 0, max: 3_600_000 },
  readMasterWeight: { name: 'READ_MASTER_WEIGHT', min: 0, max: 10_000 },
  routingRpcTimeoutMs: { name: 'ROUTING_RPC_TIMEOUT_MS', min: 10, max: 60_000 },
  routingStaleMaxMs: { name: 'ROUTING_STALE_MAX_MS', min: 0, max: 3_600_000 },
};

/** Parsed once per bindings object: every read asks, and workerd hands each request the same one. */
const readPathConfigs = new WeakMap<object, ReadPathConfig>();

export function readReadPathConfig(env: Record<string, unknown>): ReadPathConfig {
  let config = readPathConfigs.get(env);
  if (!config) {
    config = parseReadPathConfig(env);
    readPathConfigs.set(env, config);
  }
  return config;
}

function parseReadPathConfig(env: Record<string, unknown>): ReadPathConfig {
  const config = readVars(env, DEFAULT_READ_PATH, READ_VARS);
  if (config.hedgeFloorMs > config.hedgeCapMs)
    throw new Error(
      `HEDGE_FLOOR_MS=${config.hedgeFloorMs} is above HEDGE_CAP_MS=${config.hedgeCapMs} (set them in wrangler.toml [vars])`,
    );
  return config;
}

export interface SeedNode {
  id: string;
  url: string;
  priority: number;
}

/** NODES is a JSON list of {id,url,priority}; "" means "no seed, register nodes through the admin API". */
export function parseSeedNodes(raw: unknown): SeedNode[] {
  if (typeof raw !== 'string' || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(
      'NODES must be a JSON list like [{"id":"n1","url":"http://10.0.0.5:8080","priority":100}]',
    );
  }
  if (!Array.isArray(parsed)) throw new Error('NODES must be a JSON list of {id,url,priority}');
  return parsed.map((n, i) => {
    const node = n as Partial<SeedNode>;
    if (typeof node?.id !== 'string' || typeof node.url !== 'string') {
      throw new Error(`NODES[${i}] needs string "id" and "url"`);
    }
    return {
      id: node.id,
      url: node.url.replace(/\/+$/, ''),
      priority: typeof node.priority === 'number' ? node.priority : 100,
    };
  });
}
