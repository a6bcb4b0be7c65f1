/** How the status page writes times, durations and states: small pure helpers and the badge. */
import type { FailoverSummary, NodeStatus } from '../../../shared/edge-api.ts';

export const fmtTime = (ms: number | null) =>
  ms === null ? '—' : `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)}Z`;

export function fmtDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function fmtAgo(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

export const STATE_TONE: Record<NodeStatus['state'], string> = {
  up: 'b-ok',
  overloaded: 'b-warn',
  suspect: 'b-warn',
  starting: 'b-muted',
  down: 'b-bad',
};
export const ROLE_TONE: Record<NodeStatus['role'], string> = {
  master: 'b-info',
  standby: 'b-muted',
  degraded: 'b-warn',
};
export const OUTCOME_TONE: Record<FailoverSummary['outcome'], string> = {
  succeeded: 'b-ok',
  in_progress: 'b-info',
  rolled_back: 'b-warn',
  failed: 'b-bad',
};

export function Badge({ tone, children }: { tone: string; children: string }) {
  return <span class={`badge ${tone}`}>{children}</span>;
}
