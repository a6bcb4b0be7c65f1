/**
 * The status page as hono/jsx components: pure (cluster status and failover reports in, HTML
 * out), so it renders the same in the Worker and in a test. JSX escapes every text and attribute
 * value; the only raw insert is the constant stylesheet.
 */
import type {
  ClusterStatus,
  FailoverReport,
  FailoverSummary,
  NodeStatus,
  PublicClusterStatus,
  PublicNodeStatus,
  RedisStatus,
} from '../../../shared/edge-api.ts';
import { Badge, fmtAgo, fmtDuration, fmtTime, OUTCOME_TONE, ROLE_TONE, STATE_TONE } from './format.tsx';
import { STATUS_PAGE_CSS } from './styles.ts';

export interface StatusPageData {
  /** The public view (routes/status-page.tsx) lacks node URLs, parts and the probe loop. */
  status: ClusterStatus | PublicClusterStatus;
  /** Newest first; `report` holds the steps for the newest few, null for older ones. */
  failovers: { summary: FailoverSummary; report: FailoverReport | null }[];
  now: number;
  refreshSeconds: number;
}

function Tile({ label, id, children }: { label: string; id?: string; children: unknown }) {
  return (
    <div class="tile">
      <div class="label">{label}</div>
      <div class="value" id={id}>
        {children}
      </div>
    </div>
  );
}

function NodeRow({ node }: { node: NodeStatus | PublicNodeStatus }) {
  const lag =
    node.lag_entries === null && node.lag_ms === null
      ? '—'
      : `${node.lag_entries ?? '?'} entries / ${fmtDuration(node.lag_ms)}`;
  const gpu = node.gpu
    ? `${Math.round(node.gpu.util)}% · ${Math.round(node.gpu.mem_used_mb)}/${Math.round(node.gpu.mem_total_mb)} MB · ${Math.round(node.gpu.temp_c)}°C`
    : 'no GPU';
  return (
    <tr data-node={node.id} data-role={node.role} data-state={node.state}>
      <td>
        <strong>{node.id}</strong>
        {'url' in node ? (
          <div class="muted small">
            <code>{node.url}</code>
          </div>
        ) : (
          ''
        )}
      </td>
      <td>
        <Badge tone={ROLE_TONE[node.role]}>{node.role}</Badge>
      </td>
      <td>
        <Badge tone={STATE_TONE[node.state]}>{node.state}</Badge>
        {node.consecutive_failures > 0 ? (
          <div class="muted small">{`${node.consecutive_failures} failed probe(s) in a row`}</div>
        ) : (
          ''
        )}
        {'write_path' in node && node.write_path && node.write_path !== 'ok' ? (
          <div class="small" data-write-path>{`cannot take writes: ${node.write_path}`}</div>
        ) : (
          ''
        )}
        {node.failed_jobs > 0 ? (
          <div class="small" data-failed-jobs={String(node.failed_jobs)}>
            {`${node.failed_jobs} ingest job(s) failed`}
            {'last_failed_job' in node && node.last_failed_job
              ? ` · newest: job ${node.last_failed_job.job_id} at ${fmtTime(node.last_failed_job.at)}: ${node.last_failed_job.reason}`
              : ''}
          </div>
        ) : (
          ''
        )}
      </td>
      <td class="num">
        <code>{node.applied_seq ?? '—'}</code>
      </td>
      <td class="num">{lag}</td>
      <td class="num">
        {node.last_probe_ms === null ? '—' : `${Math.round(node.last_probe_ms)} ms`}
        {node.last_probe_at === null ? '' : <div class="muted small">{fmtTime(node.last_probe_at)}</div>}
      </td>
      <td class="num">{gpu}</td>
    </tr>
  );
}

function Steps({ report }: { report: FailoverReport }) {
  if (report.steps.length === 0) return <p class="muted small">no steps recorded yet</p>;
  return (
    <ol class="timeline">
      {report.steps.map((s) => (
        <li class={s.ok ? 'ok' : 'fail'} data-step={s.step}>
          <span class="at">{`+${fmtDuration(s.at - report.started_at)}`}</span>
          <span class="step">{s.step}</span>
          {s.node ? <code>{s.node}</code> : ''}{' '}
          <span class="muted small">{`epoch ${s.epoch} · ${fmtTime(s.at)}`}</span>{' '}
          {s.ok ? <Badge tone="b-ok">ok</Badge> : <Badge tone="b-bad">failed</Badge>}
          {s.detail ? <div class="muted small">{s.detail}</div> : ''}
        </li>
      ))}
    </ol>
  );
}

function triggerSummary(report: FailoverReport): string {
  const counts = new Map<string, number>();
  for (const t of report.trigger)
    counts.set(
      `${t.source} ${t.outcome}${t.status ? ` ${t.status}` : ''}`,
      (counts.get(`${t.source} ${t.outcome}${t.status ? ` ${t.status}` : ''}`) ?? 0) + 1,
    );
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
}

function Failover({
  summary,
  report,
  now,
}: {
  summary: FailoverSummary;
  report: FailoverReport | null;
  now: number;
}) {
  return (
    <section
      class="failover"
      data-failover={summary.id}
      data-kind={summary.kind}
      data-outcome={summary.outcome}
    >
      <h3>
        <Badge tone="b-muted">{summary.kind}</Badge>
        <span>{`${summary.from ?? '(no master)'} → ${summary.to}`}</span>
        <span class="muted small">{`epoch ${summary.epoch}`}</span>
        <Badge tone={OUTCOME_TONE[summary.outcome]}>{summary.outcome.replace('_', ' ')}</Badge>
        <span class="muted small">
          {summary.duration_ms === null ? 'running' : `in ${fmtDuration(summary.duration_ms)}`}
        </span>
      </h3>
      <div class="muted small">
        <code>{summary.id}</code>{' '}
        {`· started ${fmtTime(summary.started_at)} (${fmtAgo(summary.started_at, now)})`}
      </div>
      {report ? (
        <>
          <div class="small">{`reason: ${report.reason}`}</div>
          {report.trigger.length > 0 ? (
            <div class="muted small">{`signals: ${triggerSummary(report)}`}</div>
          ) : (
            ''
          )}
          <Steps report={report} />
        </>
      ) : (
        <div class="muted small">older: see GET /api/v1/failovers/{summary.id}</div>
      )}
    </section>
  );
}

/** `sentinel · 1 replica · WAIT 1 · ok`: the topology the master reports and its health. */
function redisLine(redis: RedisStatus | null | undefined): string {
  if (!redis) return 'not reported';
  const replicas = redis.replicas === null ? '? replicas' : `${redis.replicas} replica(s)`;
  const wait = redis.min_replicas_ack === null ? '' : ` · WAIT ${redis.min_replicas_ack}`;
  return `${redis.kind} · ${replicas}${wait} · ${redis.state.replace('_', ' ')}`;
}

export function StatusPage({ status, failovers, now, refreshSeconds }: StatusPageData) {
  const master = status.nodes.find((n) => n.id === status.current_master);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content={String(refreshSeconds)} />
        <title>{`GTE-Pro · ${status.current_master ?? 'no master'} · epoch ${status.epoch}`}</title>
        <style dangerouslySetInnerHTML={{ __html: STATUS_PAGE_CSS }} />
      </head>
      <body>
        <main>
          <header>
            <h1>GTE-Pro cluster</h1>
            <span
              class="muted small"
              id="updated"
            >{`updated ${fmtTime(now)} · refreshes every ${refreshSeconds} s`}</span>
          </header>
          <div class="summary">
            <Tile label="master" id="master">
              {status.current_master ?? 'none'}
            </Tile>
            <Tile label="epoch" id="epoch">
              {String(status.epoch)}
            </Tile>
            <Tile label="standbys" id="standbys">
              {status.standby_status}
            </Tile>
            <Tile label="Redis" id="redis">
              {redisLine(status.redis)}
            </Tile>
            <Tile label="last failover" id="last-failover">
              {status.last_failover
                ? `${status.last_failover.outcome.replace('_', ' ')}, ${fmtAgo(status.last_failover.started_at, now)}`
                : 'none'}
            </Tile>
          </div>
          {status.failover_in_progress ? <div class="banner warn">failover in progress</div> : ''}
          {!status.current_master ? (
            <div class="banner bad">no master: searches and writes cannot be served until one is elected</div>
          ) : (
            ''
          )}
          {master && master.state !== 'up' ? (
            <div class="banner warn">{`master ${master.id} is ${master.state}`}</div>
          ) : (
            ''
          )}
          <h2>Nodes</h2>
          {status.nodes.length === 0 ? (
            <p class="muted">no search node is registered (POST /api/v1/admin/nodes)</p>
          ) : (
            <table id="nodes">
              <thead>
                <tr>
                  <th>node</th>
                  <th>role</th>
                  <th>state</th>
                  <th>applied position</th>
                  <th>lag</th>
                  <th>last probe</th>
                  <th>GPU</th>
                </tr>
              </thead>
              <tbody>
                {status.nodes.map((n) => (
                  <NodeRow node={n} />
                ))}
              </tbody>
            </table>
          )}
          <h2>Failover history</h2>
          <div id="failovers">
            {failovers.length === 0 ? (
              <p class="muted">no failovers yet</p>
            ) : (
              failovers.map((f) => <Failover summary={f.summary} report={f.report} now={now} />)
            )}
          </div>
          <footer class="muted small">
            {'coordinator' in status
              ? `probe loop every ${fmtDuration(status.coordinator.probe_interval_ms)}${status.coordinator.alarm_at ? `, next at ${fmtTime(status.coordinator.alarm_at)}` : ', not armed'}${status.coordinator.note ? ` · ${status.coordinator.note}` : ''}`
              : 'node URLs, parts and the probe loop: send the admin token'}
            {' · JSON: '}
            <a href="/api/v1/status">/api/v1/status</a>
            {' · '}
            <a href="/metrics">/metrics</a>
          </footer>
        </main>
      </body>
    </html>
  );
}

/** Shown when the coordinator cannot be reached; it refreshes too, so it recovers by itself. */
export function StatusPageError({
  message,
  now,
  refreshSeconds,
}: {
  message: string;
  now: number;
  refreshSeconds: number;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content={String(refreshSeconds)} />
        <title>GTE-Pro · status unavailable</title>
        <style dangerouslySetInnerHTML={{ __html: STATUS_PAGE_CSS }} />
      </head>
      <body>
        <main>
          <h1>GTE-Pro cluster</h1>
          <div class="banner bad">{`status unavailable: ${message}`}</div>
          <p class="muted small">{`${fmtTime(now)} · retrying every ${refreshSeconds} s`}</p>
        </main>
      </body>
    </html>
  );
}
