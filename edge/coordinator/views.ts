/**
 * What the coordinator shows the world, computed from its stored state: the routing table the
 * Worker routes by, /api/v1/status, failover summaries and reports, and the metric values.
 * Pure functions over plain data, so the shapes are the same in every caller.
 */
import type { ClusterStatus, FailoverReport, FailoverSummary, NodeStatus } from '../../shared/edge-api.ts';
import type { Role } from '../../shared/schemas.ts';
import type { EdgeConfig } from '../config.ts';
import { assess, type Assessment, type Signal } from '../detector.ts';
import type { FailoverRecord } from '../failover.ts';
import type { RoutedNode, RoutingTable } from '../router.ts';
import type { MetricsSnapshot } from '../metrics-text.ts';
export type { MetricsSnapshot };
import { redisStatus } from '../redis-status.ts';
import { storedDiagnostics } from './diagnostics.ts';
import type { NodeRow } from './storage.ts';

export interface CoordinatorState {
  nodes: NodeRow[];
  history: Map<string, Signal[]>;
  master: string | null;
  epoch: number;
  config: EdgeConfig;
}

export interface AssessedNode {
  row: NodeRow;
  assessment: Assessment;
  role: Role;
}

/** The coordinator's view of each node's role: it alone decides who the master is. */
export function assessNodes(state: CoordinatorState): AssessedNode[] {
  return state.nodes.map((row) => {
    const assessment = assess(state.history.get(row.id) ?? [], state.config);
    const reported = assessment.lastHealth?.role;
    const role: Role = row.id === state.master ? 'master' : reported === 'degraded' ? 'degraded' : 'standby';
    return { row, assessment, role };
  });
}

export function routingTable(state: CoordinatorState, now: number): RoutingTable {
  const nodes: RoutedNode[] = assessNodes(state).map(({ row, assessment, role }) => ({
    id: row.id,
    url: row.url,
    priority: row.priority,
    role,
    state: assessment.state,
    appliedSeq: assessment.lastHealth?.index.applied_seq ?? '0-0',
    lagEntries: assessment.lastHealth?.replication?.lag_entries ?? (role === 'master' ? 0 : null),
    lagMs: assessment.lastHealth?.replication?.lag_ms ?? (role === 'master' ? 0 : null),
    overloaded: assessment.overloaded,
  }));
  return { epoch: state.epoch, master: state.master, nodes, generatedAt: now };
}

export function nodeStatus({ row, assessment, role }: AssessedNode): NodeStatus {
  const health = assessment.lastHealth;
  const last = assessment.lastSignal;
  return {
    id: row.id,
    url: row.url,
    priority: row.priority,
    role,
    state: assessment.state,
    applied_seq: health?.index.applied_seq ?? null,
    lag_entries: health?.replication?.lag_entries ?? (role === 'master' && health ? 0 : null),
    lag_ms: health?.replication?.lag_ms ?? (role === 'master' && health ? 0 : null),
    last_probe_ms: last?.latencyMs ?? null,
    last_probe_at: last?.at ?? null,
    consecutive_failures: assessment.consecutiveFailures,
    gpu: health?.gpu ?? null,
    parts: health?.parts ?? null,
    write_path: health?.write_path ?? null,
    failed_jobs: health?.ingest?.failed_jobs ?? 0,
    last_failed_job: health?.ingest?.last_failure ?? null,
  };
}

/** synced: a standby is up and fully caught up; lagging: standbys are up but behind; down: none is up. */
export function standbyStatus(nodes: NodeStatus[]): ClusterStatus['standby_status'] {
  const standbys = nodes.filter((n) => n.role !== 'master');
  if (standbys.length === 0) return 'none';
  const serving = standbys.filter((n) => n.state === 'up' || n.state === 'overloaded');
  if (serving.length === 0) return 'down';
  return serving.some((n) => (n.lag_entries ?? Infinity) === 0) ? 'synced' : 'lagging';
}

export function failoverSummary(record: FailoverRecord): FailoverSummary {
  return {
    id: record.id,
    kind: record.kind,
    outcome: record.outcome,
    from: record.from,
    to: record.to,
    epoch: record.epoch,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    duration_ms: record.finishedAt === null ? null : record.finishedAt - record.startedAt,
  };
}

export function failoverReport(record: FailoverRecord): FailoverReport {
  return {
    ...failoverSummary(record),
    reason: record.reason,
    tried: record.tried,
    steps: record.log.map((l) => ({ ...l })),
    trigger: record.trigger.map(({ at, outcome, source, status, message }) => ({
      at,
      outcome,
      source,
      ...(status !== undefined ? { status } : {}),
      ...(message !== undefined ? { message } : {}),
    })),
    old_master_health: record.oldMasterHealth,
    diagnostics: storedDiagnostics(record.diagnostics),
  };
}

/** What /api/v1/status shows besides the nodes: the probe loop and the coordinator's note. */
export interface CoordinatorMeta {
  alarmAt: number | null;
  alarmArmedAt: number | null;
  alarmArmedBy: string | null;
  note: string | null;
  lastFailover: FailoverRecord | null;
  failoverInProgress: boolean;
}

export function clusterStatus(state: CoordinatorState, meta: CoordinatorMeta): ClusterStatus {
  const assessed = assessNodes(state);
  const nodes = assessed.map(nodeStatus);
  return {
    current_master: state.master,
    epoch: state.epoch,
    standby_status: standbyStatus(nodes),
    redis: redisStatus(
      assessed.find((n) => n.row.id === state.master)?.assessment.lastHealth ?? null,
      state.epoch,
    ),
    nodes,
    last_failover: meta.lastFailover ? failoverSummary(meta.lastFailover) : null,
    failover_in_progress: meta.failoverInProgress,
    coordinator: {
      alarm_at: meta.alarmAt,
      alarm_armed_at: meta.alarmArmedAt,
      alarm_armed_by: meta.alarmArmedBy,
      probe_interval_ms: state.config.probeIntervalMs,
      note: meta.note,
    },
  };
}

export function metricsSnapshot(
  state: CoordinatorState,
  counters: Pick<MetricsSnapshot, 'failoverCount' | 'probes'>,
): MetricsSnapshot {
  return {
    epoch: state.epoch,
    failoverCount: counters.failoverCount,
    nodes: assessNodes(state).map(({ row, assessment, role }) => ({
      id: row.id,
      up: assessment.state === 'up' || assessment.state === 'overloaded',
      lagSeconds: assessment.lastHealth?.replication ? assessment.lastHealth.replication.lag_ms / 1000 : null,
      overloaded: assessment.overloaded,
      role,
    })),
    probes: counters.probes,
  };
}
