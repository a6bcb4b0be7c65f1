/**
 * GET /status: a small server-rendered page for humans (nodes, roles, lag, epoch, recent
 * failovers). Deliberately plain; a later issue makes it richer. No script: it reloads itself.
 */
import { Hono } from 'hono';
import type { ClusterStatus, FailoverSummary } from '../../shared/edge-api.ts';
import { coordinator } from '../env.ts';
import type { AppEnv } from '../http.ts';

const fmtTime = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

function Page({ status, failovers }: { status: ClusterStatus; failovers: FailoverSummary[] }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content="5" />
        <title>GTE-Pro status</title>
        <style>{'body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left}.up{color:#080}.down{color:#b00}'}</style>
      </head>
      <body>
        <h1>GTE-Pro cluster</h1>
        <p>
          Master: <strong id="master">{status.current_master ?? 'none'}</strong> · epoch <strong id="epoch">{status.epoch}</strong> · standbys: {status.standby_status}
          {status.failover_in_progress ? ' · failover in progress' : ''}
        </p>
        <table id="nodes">
          <thead>
            <tr><th>node</th><th>role</th><th>state</th><th>applied</th><th>lag (entries / ms)</th><th>probe ms</th><th>GPU %</th></tr>
          </thead>
          <tbody>
            {status.nodes.map((n) => (
              <tr data-node={n.id}>
                <td>{n.id}</td>
                <td>{n.role}</td>
                <td class={n.state === 'up' ? 'up' : n.state === 'down' ? 'down' : ''}>{n.state}</td>
                <td>{n.applied_seq ?? '—'}</td>
                <td>{n.lag_entries ?? '—'} / {n.lag_ms ?? '—'}</td>
                <td>{n.last_probe_ms ?? '—'}</td>
                <td>{n.gpu ? n.gpu.util : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Failovers</h2>
        {failovers.length === 0 ? (
          <p>none yet</p>
        ) : (
          <ul>
            {failovers.map((f) => (
              <li>
                {fmtTime(f.started_at)} {f.kind} {f.from ?? '—'} → {f.to} (epoch {f.epoch}): {f.outcome}
                {f.duration_ms === null ? '' : ` in ${f.duration_ms} ms`}
              </li>
            ))}
          </ul>
        )}
      </body>
    </html>
  );
}

export const statusPageRoutes = new Hono<AppEnv>().get('/status', async (c) => {
  const stub = coordinator(c.env);
  const [status, failovers] = await Promise.all([stub.status(), stub.listFailovers(10)]);
  return c.html(`<!doctype html>${(<Page status={status} failovers={failovers} />).toString()}`);
});
