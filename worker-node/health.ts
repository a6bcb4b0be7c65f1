/**
 * What the node says about itself, as pure functions of one plain state object: /health (what
 * the coordinator's probes read), /api/v1/info and /api/v1/diagnostics. search-node.ts gathers
 * the state from the parts; the unit tests build it by hand.
 */
import type { GpuTelemetry, NodeHealth, NodeParts, RedisTopologyHealth } from '../shared/schemas.ts';
import type { EmbedderInfo } from './embedder/index.ts';
import type { RoleState } from './roles.ts';
import type { GpuSample } from './telemetry/gpu.ts';
import type { PartHealth } from './util/supervisor.ts';

/** Where the process is in its life: not yet checked the log, serving, or shutting down. */
export type Lifecycle = 'starting' | 'running' | 'stopping';

/** The local data: open, being replaced by a peer's copy, or trimmed past (a resync is due). */
export type DataState = 'open' | 'resynchronising' | 'needs_resync';

/** How far behind the log a node may be and still serve reads, and when an applier is stuck. */
export interface ReadBounds {
  /** READ_MAX_LAG_ENTRIES */
  maxLagEntries: number;
  /** READ_MAX_LAG_MS */
  maxLagMs: number;
  /** APPLIER_STALL_MS: the log tail is ahead and nothing was applied for this long. */
  stallMs: number;
}

export interface NodeState {
  node: string;
  lifecycle: Lifecycle;
  data: DataState;
  role: RoleState;
  modelId: string;
  /** As last seen open: while a resync has the engine closed this is the old data's. */
  index: { size: number; applied_seq: string };
  lag: { entries: number; ms: number };
  /** How long the applier has applied nothing while the log tail was ahead of it (0: caught up). */
  stalledMs: number;
  redis: 'up' | 'down';
  /** Redis's topology, replicas and fence as last seen; absent in tests that do not watch it. */
  redisTopology?: RedisTopologyHealth;
  /** Log entries applied with an epoch below an earlier one (the fence went back): divergence. */
  epochRegressions?: number;
  /** The supervised ONNX session worker (embedder/index.ts). */
  embedder: PartHealth;
  /** The supervised FAISS worker (engine.ts). */
  engine: PartHealth;
  /** The data directory's write probe (telemetry/disk.ts): `ok` or why not. */
  disk: string;
  bounds: ReadBounds;
  gpu: GpuTelemetry | null;
  load: NodeHealth['load'];
  ingest: NonNullable<NodeHealth['ingest']>;
}

/** `ok`, or the supervisor's state and the error that put it there. */
function supervisedPart(h: PartHealth): string {
  return h.state === 'ok' ? 'ok' : `${h.state}: ${h.last_error ?? 'no error recorded'}`;
}

/** The applier: following the log, within the read bounds, and making progress. */
function applierPart(s: NodeState): string {
  if (s.data === 'resynchronising') return 'resynchronising: replays once the copied data is open';
  if (s.data === 'needs_resync')
    return "trimmed past: the log no longer holds this node's position; a resync is due";
  const b = s.bounds;
  // With Redis out nothing can be applied, and the last-seen lag only ages with the clock: judge
  // by the backlog last seen alone, or one outage would take every slightly-behind node out.
  const timed = s.redis === 'up';
  if (timed && s.stalledMs >= b.stallMs)
    return `stalled: nothing applied for ${Math.round(s.stalledMs / 1000)} s with the log tail ahead`;
  if (s.lag.entries > b.maxLagEntries || (timed && s.lag.ms > b.maxLagMs))
    return `lagging: ${s.lag.entries} entries, ${Math.round(s.lag.ms)} ms behind (bound ${b.maxLagEntries} entries, ${b.maxLagMs} ms)`;
  return 'ok';
}

/** Every part a search or a write needs, each `ok` or a short reason. */
export function nodeParts(s: NodeState): NodeParts {
  return {
    embedder: supervisedPart(s.embedder),
    index: s.data === 'resynchronising' ? "resynchronising: copying a peer's data" : supervisedPart(s.engine),
    applier: applierPart(s),
    redis: s.redis === 'up' ? 'ok' : 'unreachable',
    disk: s.disk,
  };
}

/**
 * Ready only when every part a search needs works: running, the embedder and the index up, and
 * the data current (applier within the read bounds). Redis and the disk are not among them: a
 * node serves searches from what it holds while they are out (they show in `status` and
 * `write_path`), or one Redis outage would take every node out of read routing at once.
 */
export function isReady(s: NodeState, parts: NodeParts = nodeParts(s)): boolean {
  return s.lifecycle === 'running' && readBlocker(parts, s.role.role) === null;
}

/**
 * The first part that keeps searches away (`embedder: restarting: ...`), or null. On the master a
 * lagging applier does not: its backlog is its own writes of a burst of ingest, it is still the
 * freshest copy there is, and a master that went not-ready under write load would be failed over
 * for load, which the detector must never do.
 */
export function readBlocker(parts: NodeParts, role: RoleState['role'] = 'standby'): string | null {
  for (const name of ['embedder', 'index'] as const)
    if (parts[name] !== 'ok') return `${name}: ${parts[name]}`;
  return applierBlocksReads(parts.applier, role) ? `applier: ${parts.applier}` : null;
}

/** Whether the applier's state keeps searches away from a node in this role (see readBlocker). */
export function applierBlocksReads(applier: string, role: RoleState['role']): boolean {
  return applier !== 'ok' && !(role === 'master' && applier.startsWith('lagging'));
}

/** `ok`, or the first part that keeps this node from taking writes as master (`redis: unreachable`). */
export function writePath(parts: NodeParts): string {
  for (const name of ['redis', 'embedder', 'disk', 'index'] as const)
    if (parts[name] !== 'ok') return `${name}: ${parts[name]}`;
  // A lagging applier only slows `wait` answers; one that is stuck or trimmed past breaks them.
  if (parts.applier !== 'ok' && !parts.applier.startsWith('lagging')) return `applier: ${parts.applier}`;
  return 'ok';
}

/**
 * stopping while shutting down; failed once a supervised part gave up restarting; starting while
 * not ready (loading, replaying, resynchronising, a part restarting); degraded when ready but in
 * the degraded role, or with Redis or the disk out; else ok.
 */
export function healthStatus(s: NodeState, parts: NodeParts = nodeParts(s)): NodeHealth['status'] {
  if (s.lifecycle === 'stopping') return 'stopping';
  if (s.embedder.state === 'failed' || s.engine.state === 'failed') return 'failed';
  if (!isReady(s, parts)) return 'starting';
  if (s.role.role === 'degraded' || parts.redis !== 'ok' || parts.disk !== 'ok') return 'degraded';
  return 'ok';
}

export function nodeHealth(s: NodeState): NodeHealth {
  // While a resync has the engine closed there is no applier to ask: no lag to report.
  const lag = s.data === 'resynchronising' ? { entries: 0, ms: 0 } : s.lag;
  const parts = nodeParts(s);
  return {
    status: healthStatus(s, parts),
    node: s.node,
    role: s.role.role,
    epoch: s.role.epoch,
    ready: isReady(s, parts),
    parts,
    write_path: writePath(parts),
    model: { id: s.modelId, loaded: s.embedder.state === 'ok' },
    index: { ...s.index },
    replication: {
      lag_entries: lag.entries,
      lag_ms: lag.ms,
      redis: s.redis,
      ...(s.redisTopology ? { redis_topology: s.redisTopology } : {}),
      ...(s.epochRegressions ? { epoch_regressions: s.epochRegressions } : {}),
    },
    gpu: s.gpu,
    load: s.load,
    ingest: s.ingest,
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
