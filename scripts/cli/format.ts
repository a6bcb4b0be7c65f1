/**
 * Text the CLI prints: tables, the cluster status, failover lists and one report as a timeline.
 * Pure (edge answers in, strings out), so the wording is tested without an edge.
 */
import type {
  ClusterStatus,
  FailoverReport,
  FailoverSummary,
  NodeStatus,
  PublicClusterStatus,
} from '../../shared/edge-api.ts';

/** Left-aligned columns, two spaces apart; the header row is the first. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `2026-07-02 12:00:01Z`, UTC so that every operator reads the same time. */
export function formatTime(ms: number | null): string {
  return ms === null ? '—' : `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)}Z`;
}

export function formatAgo(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function formatGpu(gpu: NodeStatus['gpu']): string {
  if (!gpu) return '—';
  return `${Math.round(gpu.util)}% ${Math.round(gpu.mem_used_mb)}/${Math.round(gpu.mem_total_mb)} MB ${Math.round(gpu.temp_c)}°C`;
}

export function formatLag(node: Pick<NodeStatus, 'lag_entries' | 'lag_ms'>): string {
  if (node.lag_entries === null && node.lag_ms === null) return '—';
  return `${node.lag_entries ?? '?'} entries / ${formatDuration(node.lag_ms)}`;
}

export function summaryLine(f: FailoverSummary, now: number): string {
  const took = f.duration_ms === null ? '' : ` in ${formatDuration(f.duration_ms)}`;
  return `${f.id} ${f.kind} ${f.from ?? '(none)'} → ${f.to} (epoch ${f.epoch}) ${f.outcome}${took}, ${formatTime(f.started_at)} (${formatAgo(f.started_at, now)})`;
}

export function renderStatus(
  status: ClusterStatus | PublicClusterStatus,
  edgeUrl: string,
  now: number = Date.now(),
): string {
  const head = [
    `edge ${edgeUrl}`,
    `master ${status.current_master ?? 'NONE'}`,
    `epoch ${status.epoch}`,
    `standbys ${status.standby_status}`,
    ...(status.failover_in_progress ? ['FAILOVER IN PROGRESS'] : []),
  ].join(' · ');
  const rows = [
    ['NODE', 'ROLE', 'STATE', 'APPLIED', 'LAG', 'PROBE', 'GPU', 'URL'],
    ...status.nodes.map((n) => [
      n.id,
      n.role,
      n.consecutive_failures > 0 && n.state !== 'down'
        ? `${n.state} (${n.consecutive_failures} failed probes)`
        : n.state,
      n.applied_seq ?? '—',
      formatLag(n),
      n.last_probe_ms === null ? '—' : `${Math.round(n.last_probe_ms)} ms`,
      formatGpu(n.gpu),
      'url' in n ? n.url : '(admin token)',
    ]),
  ];
  const nodes =
    status.nodes.length === 0 ? 'no search node is registered (POST /api/v1/admin/nodes)' : table(rows);
  const last = status.last_failover ? summaryLine(status.last_failover, now) : 'none';
  return `${head}\n\n${nodes}\n\nlast failover: ${last}\n`;
}

export function renderFailoverList(failovers: FailoverSummary[], now: number = Date.now()): string {
  if (failovers.length === 0) return 'no failovers yet\n';
  const rows = [
    ['ID', 'KIND', 'FROM', 'TO', 'EPOCH', 'OUTCOME', 'STARTED', 'DURATION'],
    ...failovers.map((f) => [
      f.id,
      f.kind,
      f.from ?? '—',
      f.to,
      String(f.epoch),
      f.outcome,
      `${formatTime(f.started_at)} (${formatAgo(f.started_at, now)})`,
      formatDuration(f.duration_ms),
    ]),
  ];
  return `${table(rows)}\n\n\`gte-pro failovers ID\` shows one report with its timeline.\n`;
}

/** `+1.20 s` after the start, `-300 ms` before it (trigger signals precede the start). */
function offset(at: number, start: number): string {
  const d = at - start;
  return `${d < 0 ? '-' : '+'}${formatDuration(Math.abs(d))}`;
}

/** One report: what happened, why, and each step on a timeline relative to the start. */
export function renderReport(r: FailoverReport): string {
  const lines: string[] = [
    `${r.kind} ${r.id}: ${r.from ?? '(no master)'} → ${r.to}, epoch ${r.epoch}, ${r.outcome.toUpperCase()}${r.duration_ms === null ? '' : ` in ${formatDuration(r.duration_ms)}`}`,
    `started ${formatTime(r.started_at)}, finished ${formatTime(r.finished_at)}`,
    `reason: ${r.reason}`,
  ];
  if (r.tried.length > 1) lines.push(`candidates tried: ${r.tried.join(', ')}`);
  if (r.trigger.length > 0) {
    lines.push('', 'signals that triggered it:');
    for (const t of r.trigger) {
      lines.push(
        `  ${offset(t.at, r.started_at).padStart(10)}  ${t.source} ${t.outcome}${t.status !== undefined ? ` HTTP ${t.status}` : ''}${t.message ? `: ${t.message}` : ''}`,
      );
    }
  }
  lines.push('', 'timeline:');
  if (r.steps.length === 0) lines.push('  (no steps recorded)');
  for (const s of r.steps) {
    lines.push(
      `  ${offset(s.at, r.started_at).padStart(10)}  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.step.padEnd(8)} ${s.node ?? ''}${s.node ? ' ' : ''}(epoch ${s.epoch})${s.detail ? `: ${s.detail}` : ''}`,
    );
  }
  const h = r.old_master_health;
  if (h) {
    lines.push(
      '',
      `old master's last health: ${h.node} ${h.status}, role ${h.role}, epoch ${h.epoch}, applied ${h.index.applied_seq}, ${h.index.size} documents, inflight ${h.load.inflight}, event-loop lag ${Math.round(h.load.event_loop_lag_ms)} ms${h.gpu ? `, GPU ${h.gpu.util}%` : ''}`,
    );
  }
  if (r.diagnostics !== null && r.diagnostics !== undefined) {
    const text = JSON.stringify(r.diagnostics);
    lines.push('', `diagnostics: ${text.length > 600 ? `${text.slice(0, 600)}… (--json for all)` : text}`);
  }
  return `${lines.join('\n')}\n`;
}
