/**
 * Prometheus text exposition (format 0.0.4) of the coordinator's metric values. Pure, so the
 * format is unit-tested without workerd; routes/metrics.ts serves it.
 */

export interface MetricsSnapshot {
  epoch: number;
  failoverCount: number;
  /**
   * `overloaded` (the detector's load signal: the node's own flag or GPU over the limit for the
   * window) and `role` feed gte_pro_node_overloaded; optional so older snapshots still render.
   */
  nodes: { id: string; up: boolean; lagSeconds: number | null; overloaded?: boolean; role?: string }[];
  probes: { node: string; outcome: string; count: number }[];
}

/** Label values escaped per the exposition format: backslash, double quote, newline. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(m: MetricsSnapshot): string {
  const lines: string[] = [
    '# HELP gte_pro_failover_count_total Completed failovers and switchovers since the cluster started.',
    '# TYPE gte_pro_failover_count_total counter',
    `gte_pro_failover_count_total ${m.failoverCount}`,
    '# HELP gte_pro_epoch Current cluster epoch (the write fence).',
    '# TYPE gte_pro_epoch gauge',
    `gte_pro_epoch ${m.epoch}`,
    '# HELP gte_pro_node_up 1 when the node answered its last probe ready (overloaded counts as up).',
    '# TYPE gte_pro_node_up gauge',
    ...m.nodes.map((n) => `gte_pro_node_up{node="${label(n.id)}"} ${n.up ? 1 : 0}`),
    '# HELP gte_pro_replication_lag_seconds Replication lag a node reported in its last health answer.',
    '# TYPE gte_pro_replication_lag_seconds gauge',
    ...m.nodes
      .filter((n) => n.lagSeconds !== null)
      .map((n) => `gte_pro_replication_lag_seconds{node="${label(n.id)}"} ${n.lagSeconds}`),
    '# HELP gte_pro_node_overloaded 1 while the node is overloaded (load never fails a master over; reads shed to standbys).',
    '# TYPE gte_pro_node_overloaded gauge',
    ...m.nodes
      .filter((n) => n.overloaded !== undefined)
      .map(
        (n) =>
          `gte_pro_node_overloaded{node="${label(n.id)}",role="${label(n.role ?? 'unknown')}"} ${n.overloaded ? 1 : 0}`,
      ),
    '# HELP gte_pro_probe_total Health probes by node and outcome.',
    '# TYPE gte_pro_probe_total counter',
    ...m.probes.map(
      (p) => `gte_pro_probe_total{node="${label(p.node)}",outcome="${label(p.outcome)}"} ${p.count}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
