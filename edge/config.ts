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

const VARS: Record<keyof EdgeConfig, { name: string; min: number; max: number }> = {
  probeIntervalMs: { name: 'PROBE_INTERVAL_MS', min: 50, max: 600_000 },
  probeTimeoutMs: { name: 'PROBE_TIMEOUT_MS', min: 10, max: 60_000 },
  failThreshold: { name: 'FAIL_THRESHOLD', min: 1, max: 100 },
  activateVerifyMs: { name: 'ACTIVATE_VERIFY_MS', min: 100, max: 600_000 },
  overloadGpuUtil: { name: 'OVERLOAD_GPU_UTIL', min: 1, max: 100 },
  overloadWindowMs: { name: 'OVERLOAD_WINDOW_MS', min: 0, max: 3_600_000 },
};

/** Reads the numeric vars; an absent or empty var takes its default from ARCHITECTURE.md section 8. */
export function readConfig(env: Record<string, unknown>): EdgeConfig {
  const config = { ...DEFAULT_CONFIG };
  for (const key of Object.keys(VARS) as (keyof EdgeConfig)[]) {
    const { name, min, max } = VARS[key];
    const raw = env[name];
    if (raw === undefined || raw === null || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(
        `${name}=${JSON.stringify(raw)} is invalid: expected a number from ${min} to ${max} (set it in wrangler.toml [vars])`,
      );
    }
    config[key] = value;
  }
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
