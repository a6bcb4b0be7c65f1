/**
 * Suite "failover": kill -9 of the master on a 2-node cluster, over and over. After each kill:
 * the time until a search through the edge is answered by the new master (served_by = the other
 * node, role master, epoch increased), the time until searches are answered at all, and the
 * coordinator's own account (detection: kill → failover started; execution: its duration). Then
 * the killed node is restarted and the next kill waits until it is a synced standby.
 * Series: the default PROBE_INTERVAL_MS (2000) and, time allowing, a fast setting (500).
 */
import { join } from 'node:path';
import { Agent } from 'node:http';
import { startCluster, type Cluster } from '../../cluster/launch.ts';
import { waitFor } from '../../cluster/wait.ts';
import { type BenchContext, ingestThroughEdge } from '../context.ts';
import { benchQueries } from '../../corpus/synthetic.ts';
import { postJson } from '../load.ts';
import { formatMs, goalVerdict, markdownTable, summarize } from '../stats.ts';
import type { Suite } from '../suite.ts';

/** The whole suite's time box (full run); the fast series only runs with time left in it. */
const FULL_BUDGET_MS = 9 * 60_000;
const FAILOVER_TIMEOUT_MS = 30_000;

interface Drill {
  newMasterMs: number | null;
  firstAnswerMs: number | null;
  detectMs: number | null;
  executeMs: number | null;
  errors: number;
  rejoinMs: number | null;
}

interface Series {
  probeMs: number;
  drills: Drill[];
  note: string | null;
}

export const failoverSuite: Suite = {
  name: 'failover',
  title: 'Failover time (kill -9 of the master)',
  async run(ctx) {
    const deadline = Date.now() + (ctx.quick ? 90_000 : FULL_BUDGET_MS);
    const series: Series[] = [];
    series.push(await runSeries(ctx, 2000, ctx.sizes.kills, deadline));
    // The fast series needs about as long per kill as the default one; run it if that fits.
    const perKill =
      Math.max(...series[0]!.drills.map((d) => (d.newMasterMs ?? 0) + (d.rejoinMs ?? 0)), 5000) + 3000;
    const fastKills = Math.min(ctx.sizes.kills, Math.floor((deadline - Date.now() - 30_000) / perKill));
    if (fastKills >= 3) series.push(await runSeries(ctx, 500, fastKills, deadline));
    else
      series.push({
        probeMs: 500,
        drills: [],
        note: "skipped: not enough time left in the suite's time box",
      });

    const rows = series.map((s) => {
      const ok = s.drills.map((d) => d.newMasterMs).filter((x): x is number => x !== null);
      const st = summarize(ok);
      const first = summarize(s.drills.map((d) => d.firstAnswerMs).filter((x): x is number => x !== null));
      const det = summarize(s.drills.map((d) => d.detectMs).filter((x): x is number => x !== null));
      const exe = summarize(s.drills.map((d) => d.executeMs).filter((x): x is number => x !== null));
      return [
        s.probeMs,
        s.drills.length,
        s.drills.length - ok.length,
        formatMs(st.p50),
        formatMs(st.p99),
        formatMs(st.max),
        formatMs(first.p50),
        formatMs(first.p99),
        formatMs(det.p50),
        formatMs(exe.p50),
        s.drills.reduce((a, d) => a + d.errors, 0),
      ];
    });
    const detail = series
      .filter((s) => s.drills.length > 0)
      .map(
        (s) =>
          `- PROBE_INTERVAL_MS ${s.probeMs}: ${s.drills.map((d) => (d.newMasterMs === null ? 'none' : formatMs(d.newMasterMs))).join(', ')}`,
      );
    const notes = series.filter((s) => s.note).map((s) => `- PROBE_INTERVAL_MS ${s.probeMs}: ${s.note}`);
    const dflt = summarize(
      series[0]!.drills.map((d) => d.newMasterMs).filter((x): x is number => x !== null),
    );
    const failures = series[0]!.drills.filter((d) => d.newMasterMs === null).length;
    return [
      `Two search nodes (default model, Flat, ${ctx.sizes.clusterDocs.toLocaleString('en-US')} documents) behind the edge (workerd), other wrangler vars at their defaults (PROBE_TIMEOUT_MS 500, FAIL_THRESHOLD 3). ` +
        'One client searches through the edge back to back during each drill (a failed search reports to the coordinator, as in production). ' +
        'After each drill the killed node is restarted (`cluster.restartNode`) and the next kill waits until `/api/v1/status` shows it as a synced standby.',
      '',
      'Times in ms from the `kill -9`: **new master** = first search answered with `served_by` the other node as master at a higher epoch; **any answer** = first search answered at all (a standby may serve reads before it is promoted); ' +
        "**detect** = coordinator's failover start − kill; **execute** = the failover report's duration.",
      '',
      markdownTable(
        [
          'PROBE_INTERVAL_MS',
          'kills',
          'no failover',
          'new master p50',
          'p99',
          'max',
          'any answer p50',
          'any answer p99',
          'detect p50',
          'execute p50',
          'failed searches',
        ],
        rows,
      ),
      '',
      'Each kill, new-master time in ms:',
      '',
      ...detail,
      ...(notes.length > 0 ? ['', ...notes] : []),
      '',
      '### Goals',
      '',
      `- failover p99 ≤ 2 s with the default PROBE_INTERVAL_MS (2000): ${goalVerdict(dflt.p99 <= 2000 && failures === 0, `${formatMs(dflt.p99)} ms over ${dflt.n} kills${failures ? `, ${failures} without failover` : ''}`, '≤ 2000 ms')}`,
    ].join('\n');
  },
};

async function runSeries(
  ctx: BenchContext,
  probeMs: number,
  kills: number,
  deadline: number,
): Promise<Series> {
  ctx.progress(`  starting a 2-node cluster, PROBE_INTERVAL_MS ${probeMs}`);
  const cluster = await startCluster({
    nodes: 2,
    redisUrl: ctx.redis.url,
    dataDir: join(ctx.dir, `failover-${probeMs}`),
    // The drills measure failover, not keys: the search load sends none.
    edgeVars: { PROBE_INTERVAL_MS: String(probeMs), PUBLIC_SEARCH: 'true' },
    nodeEnv: { LOG_LEVEL: 'warn' },
    onProgress: (m) => ctx.progress(`  ${m}`),
  });
  const drills: Drill[] = [];
  let note: string | null = null;
  try {
    await ingestThroughEdge(cluster, ctx.sizes.clusterDocs, 'replicated');
    await waitSynced(cluster, 60_000);
    for (let k = 0; k < kills; k++) {
      if (Date.now() > deadline) {
        note = `stopped after ${k} kills: the suite's time box ran out`;
        break;
      }
      drills.push(await drill(ctx, cluster, k, kills));
    }
  } catch (err) {
    note = `stopped after ${drills.length} kills: ${(err as Error).message.split('\n')[0]}`;
    ctx.progress(`  ${note}`);
  } finally {
    await cluster.stop();
  }
  return { probeMs, drills, note };
}

interface ClusterStatusBody {
  current_master: string | null;
  epoch: number;
  standby_status: string;
  nodes: { id: string; role: string; state: string }[];
  last_failover: { started_at: number; duration_ms: number | null; to: string } | null;
}

async function status(cluster: Cluster): Promise<ClusterStatusBody> {
  const res = await fetch(`${cluster.state.edge_url}/api/v1/status`, { signal: AbortSignal.timeout(3000) });
  return (await res.json()) as ClusterStatusBody;
}

async function waitSynced(cluster: Cluster, timeoutMs: number): Promise<void> {
  await waitFor(
    'a master and a synced standby (GET /api/v1/status)',
    async () => {
      const s = await status(cluster);
      return (
        s.current_master !== null &&
        s.standby_status === 'synced' &&
        s.nodes.every(
          (n) => n.state === 'up' && (n.id === s.current_master ? n.role === 'master' : n.role === 'standby'),
        )
      );
    },
    timeoutMs,
  );
}

const queries = benchQueries(1000, 41);

async function drill(ctx: BenchContext, cluster: Cluster, k: number, kills: number): Promise<Drill> {
  const before = await status(cluster);
  const victim = cluster.nodes.find((n) => n.id === before.current_master);
  if (!victim) throw new Error(`no running master to kill (status says ${before.current_master})`);
  const survivor = cluster.nodes.find((n) => n !== victim)!;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const searchUrl = `${cluster.state.edge_url}/api/v1/search`;
  const d: Drill = {
    newMasterMs: null,
    firstAnswerMs: null,
    detectMs: null,
    executeMs: null,
    errors: 0,
    rejoinMs: null,
  };

  const killedWall = Date.now();
  const killed = performance.now();
  process.kill(victim.child.pid!, 'SIGKILL');
  let q = 0;
  while (performance.now() - killed < FAILOVER_TIMEOUT_MS) {
    const a = await postJson(
      agent,
      searchUrl,
      { query: queries[q++ % queries.length], top_k: 5 },
      5000,
    ).catch(() => null);
    const at = performance.now() - killed;
    if (a?.status === 200) {
      d.firstAnswerMs ??= at;
      const by = a.body?.served_by;
      if (by?.node === survivor.id && by.role === 'master' && by.epoch > before.epoch) {
        d.newMasterMs = at;
        break;
      }
    } else d.errors++;
    await new Promise((r) => setTimeout(r, 10));
  }
  agent.destroy();
  const after = await status(cluster).catch(() => null);
  if (after?.last_failover && after.last_failover.started_at >= killedWall - 1000) {
    d.detectMs = after.last_failover.started_at - killedWall;
    d.executeMs = after.last_failover.duration_ms;
  }
  ctx.progress(
    `  kill ${k + 1}/${kills} (${victim.id}): new master after ${d.newMasterMs === null ? 'NONE' : `${Math.round(d.newMasterMs)} ms`}; restarting ${victim.id}`,
  );

  const rejoin = performance.now();
  await victim.exited;
  await cluster.restartNode(victim.id);
  await waitSynced(cluster, 90_000);
  d.rejoinMs = performance.now() - rejoin;
  return d;
}
