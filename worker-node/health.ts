/**
 * What the node says about itself, as pure functions of one plain state object: /health (what
 * the coordinator's probes read), /api/v1/info and /api/v1/diagnostics. search-node.ts gathers
 * the state from the parts; the unit tests build it by hand.
 */
import type { GpuTelemetry, NodeHealth } from '../shared/schemas.ts';
import type { EmbedderInfo } from './embedder/index.ts';
import type { RoleState } from './roles.ts';
import type { GpuSample } from './telemetry/gpu.ts';

/** Where the process is in its life: not yet checked the log, serving, or shutting down. */
export type Lifecycle = 'starting' | 'running' | 'stopping';

/** The local data: open, being replaced by a peer's copy, or trimmed past (a resync is due). */
export type DataState = 'open' | 'resynchronising' | 'needs_resync';

export interface NodeState {
  node: string;
  lifecycle: Lifecycle;
  data: DataState;
  role: RoleState;
  modelId: string;
  /** As last seen open: while a resync has the engine closed this is the old data's. */
  index: { size: number; applied_seq: string };
  lag: { entries: number; ms: number };
  redis: 'up' | 'down';
  gpu: GpuTelemetry | null;
  load: NodeHealth['load'];
}

/** Ready only when every part a search needs works: running, with data that is open and current. */
export function isReady(s: Pick<NodeState, 'lifecycle' | 'data'>): boolean {
  return s.lifecycle === 'running' && s.data === 'open';
}

export function healthStatus(s: Pick<NodeState, 'lifecycle' | 'data' | 'role'>): NodeHealth['status'] {
  if (s.lifecycle === 'stopping') return 'stopping';
  if (!isReady(s)) return 'starting';
  return s.role.role === 'degraded' ? 'degraded' : 'ok';
}

export function nodeHealth(s: NodeState): NodeHealth {
  // While a resync has the engine closed there is no applier to ask: no lag to report.
  const lag = s.data === 'resynchronising' ? { entries: 0, ms: 0 } : s.lag;
  return {
    status: healthStatus(s),
    node: s.node,
    role: s.role.role,
    epoch: s.role.epoch,
    ready: isReady(s),
    model: { id: s.modelId, loaded: true },
    index: { ...s.index },
    replication: { lag_entries: lag.entries, lag_ms: lag.ms, redis: s.redis },
    gpu: s.gpu,
    load: s.load,
  };
}

export interface InfoState {
  node: string;
  version: string;
  model: EmbedderInfo;
  index: { type: string; size: number; labels: number };
  redisPrefix: string;
}

export function nodeInfo(s: InfoState) {
  const m = s.model;
  return {
    node: s.node,
    version: s.version,
    model: {
      id: m.id,
      checksum: m.checksum,
      dimension: m.dimension,
      pooling: m.pooling,
      max_length: m.maxLength,
      device: m.device,
    },
    index: { type: s.index.type, metric: 'inner_product', size: s.index.size, labels: s.index.labels },
    redis_prefix: s.redisPrefix,
  };
}

export interface RecentError {
  at: string;
  event: string;
  detail: string;
}

export interface DiagnosticsState {
  node: string;
  role: RoleState;
  health: NodeHealth;
  recentErrors: readonly RecentError[];
  gpuHistory: readonly GpuSample[];
  memory: NodeJS.MemoryUsage;
  uptimeS: number;
}

const GPU_FAILURE = /out of memory|CUDA|cudnn|OOM/i;

export function nodeDiagnostics(s: DiagnosticsState) {
  return {
    node: s.node,
    role: { ...s.role },
    health: s.health,
    recent_errors: s.recentErrors.slice(-30),
    oom_or_cuda_errors: s.recentErrors.filter((e) => GPU_FAILURE.test(e.detail)).slice(-10),
    gpu_history: s.gpuHistory.slice(-60),
    memory: s.memory,
    uptime_s: Math.round(s.uptimeS),
  };
}

/** Recent warnings and errors, for /api/v1/diagnostics (and so for failover reports). */
export class RecentErrors {
  private readonly entries: RecentError[] = [];

  note(event: string, detail: string): void {
    this.entries.push({ at: new Date().toISOString(), event, detail: detail.slice(0, 500) });
    if (this.entries.length > 50) this.entries.shift();
  }

  list(): readonly RecentError[] {
    return this.entries;
  }
}
