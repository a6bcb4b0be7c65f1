/**
 * Answers of the edge's public API that are not node messages: /health, /api/v1/status, failover
 * reports. Typed once here so the CLI, the demo and the status page read what the edge writes,
 * and /openapi.json describes them from the same schemas.
 */
import { z } from 'zod';
import {
  GpuTelemetry,
  NodeDiagnostics,
  NodeHealth,
  NodeParts,
  RedisTopologyHealth,
  Role,
} from './schemas.ts';

export const NodeState = z.enum(['up', 'suspect', 'down', 'overloaded', 'starting']);
export type NodeState = z.infer<typeof NodeState>;

export const EdgeHealth = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  role: z.literal('master').optional(),
  master: z.string().nullable(),
  epoch: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type EdgeHealth = z.infer<typeof EdgeHealth>;

export const NodeStatus = z.object({
  id: z.string(),
  url: z.string(),
  priority: z.number().int(),
  role: Role,
  state: NodeState,
  applied_seq: z.string().nullable(),
  lag_entries: z.number().int().nullable(),
  lag_ms: z.number().nullable(),
  /** Latency of the newest probe, ms; null before the first answer. */
  last_probe_ms: z.number().nullable(),
  last_probe_at: z.number().nullable(),
  consecutive_failures: z.number().int(),
  gpu: GpuTelemetry.nullable(),
  /** What the node reports of its parts and write path (null before it answered, or from older nodes). */
  parts: NodeParts.nullable(),
  write_path: z.string().nullable(),
  /** Ingest jobs the node's writer gave up on since it started, and the newest one's reason. */
  failed_jobs: z.number().int(),
  last_failed_job: z.object({ job_id: z.string(), reason: z.string(), at: z.number() }).nullable(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

export const FailoverOutcome = z.enum(['in_progress', 'succeeded', 'rolled_back', 'failed']);

export const FailoverSummary = z.object({
  id: z.string(),
  kind: z.enum(['failover', 'switchover', 'election']),
  outcome: FailoverOutcome,
  from: z.string().nullable(),
  to: z.string(),
  epoch: z.number().int(),
  started_at: z.number(),
  finished_at: z.number().nullable(),
  duration_ms: z.number().nullable(),
});
export type FailoverSummary = z.infer<typeof FailoverSummary>;

/**
 * The old master's diagnostics in a failover report: the node's answer as it parsed, or why there
 * is none (the node was dead, or answered something that is not NodeDiagnostics: then `received`
 * keeps the start of what it said, as JSON text).
 */
export const ReportDiagnostics = z.union([
  NodeDiagnostics,
  z.object({ unavailable: z.string(), received: z.string().optional() }),
]);
export type ReportDiagnostics = z.infer<typeof ReportDiagnostics>;

export const FailoverReport = FailoverSummary.extend({
  reason: z.string(),
  tried: z.array(z.string()),
  steps: z.array(
    z.object({
      step: z.string(),
      node: z.string().nullable(),
      epoch: z.number().int(),
      at: z.number(),
      ok: z.boolean(),
      detail: z.string().optional(),
    }),
  ),
  trigger: z.array(
    z.object({
      at: z.number(),
      outcome: z.string(),
      source: z.string(),
      status: z.number().optional(),
      message: z.string().optional(),
    }),
  ),
  old_master_health: NodeHealth.nullable(),
  diagnostics: ReportDiagnostics.nullable(),
});
export type FailoverReport = z.infer<typeof FailoverReport>;

/**
 * Redis as the master reports it: the topology, its replicas, the replicas WAIT requires and the
 * fence. `state`: ok; down (the master cannot reach Redis); unreplicated (fewer replicas online
 * than WAIT requires: writes are refused); fence_behind (Redis lost the fence; the coordinator
 * re-activates the master, which raises it).
 */
export const RedisStatus = RedisTopologyHealth.extend({
  state: z.enum(['ok', 'down', 'unreplicated', 'fence_behind']),
  reported_by: z.string(),
});
export type RedisStatus = z.infer<typeof RedisStatus>;

export const ClusterStatus = z.object({
  current_master: z.string().nullable(),
  epoch: z.number().int(),
  standby_status: z.enum(['synced', 'lagging', 'down', 'none']),
  /** Null until the master reported Redis (or from nodes too old to report it). */
  redis: RedisStatus.nullable().optional(),
  nodes: z.array(NodeStatus),
  last_failover: FailoverSummary.nullable(),
  failover_in_progress: z.boolean(),
  /** The probe loop: when the next alarm fires and who armed it last (cron, probe loop, api). */
  coordinator: z.object({
    alarm_at: z.number().nullable(),
    alarm_armed_at: z.number().nullable(),
    alarm_armed_by: z.string().nullable(),
    probe_interval_ms: z.number(),
    note: z.string().nullable(),
  }),
});
export type ClusterStatus = z.infer<typeof ClusterStatus>;

/**
 * /api/v1/status without the admin token: no node URLs, parts, write path or job failure reasons,
 * no probe-loop internals. What is left tells whether the cluster serves and how fresh it is.
 */
export const PublicNodeStatus = NodeStatus.omit({
  url: true,
  parts: true,
  write_path: true,
  last_failed_job: true,
});
export type PublicNodeStatus = z.infer<typeof PublicNodeStatus>;

export const PublicClusterStatus = ClusterStatus.omit({ nodes: true, coordinator: true }).extend({
  nodes: z.array(PublicNodeStatus),
});
export type PublicClusterStatus = z.infer<typeof PublicClusterStatus>;

/** The public view of a status (the same values, internals left out). */
export function publicStatus(status: ClusterStatus): PublicClusterStatus {
  const { nodes, coordinator: _coordinator, ...cluster } = status;
  return {
    ...cluster,
    nodes: nodes.map(({ url: _url, parts: _parts, write_path: _wp, last_failed_job: _job, ...node }) => node),
  };
}

export const SwitchoverAnswer = z.object({ report: FailoverReport });
