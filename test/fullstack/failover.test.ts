/**
 * End to end: the edge in real workerd, two real search-node processes, a private
 * redis-server (scripts/cluster/launch.ts), and real faults: kill -9, SIGSTOP, a master answering
 * 503, a master overloaded for 30 s, a failed canary after activation, every node down.
 *
 * One cluster for the file; each test starts from a whole cluster (heal: killed nodes restarted,
 * faults cleared, standbys caught up) and says what it measured. Probes run every 500 ms with a
 * generous 1.5 s timeout (a busy 2-core machine must not look like a dead master).
 * The cron re-arming a missing alarm is covered in test/edge with workerd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAOS_EDGE_VARS, loadCorpus } from '../../scripts/chaos/runner.ts';
import {
  clusterStatus,
  currentMaster,
  failoverReport,
  failoversSince,
  heal,
  injectFault,
  kill9,
  nodeById,
  sigcont,
  sigstop,
  sleep,
  until,
  waitNewMaster,
  waitStandby as waitStandbyIn,
  watchMasters,
} from '../../scripts/chaos/cluster-ops.ts';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';
import { searchOnce, startSearchLoad, type SearchRecord } from '../../scripts/chaos/load.ts';

let cluster: Cluster;
const { queries } = loadCorpus();
let q = 0;
const nextQuery = () => ({ query: queries[q++ % queries.length]! });

beforeAll(async () => {
  // ACTIVATE_VERIFY_MS 3000: a failed canary rolls back after 3 s instead of the default 10.
  // PUBLIC_SEARCH: these tests are about failover; keys are test/cluster/openai-clients.test.ts's.
  cluster = await startCluster({
    nodes: 2,
    privateRedis: true,
    edgeVars: { ...CHAOS_EDGE_VARS, ACTIVATE_VERIFY_MS: '3000', PUBLIC_SEARCH: 'true' },
    nodeEnv: { FAULT_INJECTION: '1' },
  });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const failed = (records: SearchRecord[]) =>
  records.filter((r) => !r.ok).map((r) => `${r.status ?? 'no answer'} ${r.error ?? ''}`);
const standbyOf = (master: string) => cluster.nodes.find((n) => n.id !== master)!.id;

const waitStandby = (id: string, epoch: number) => waitStandbyIn(cluster, id, epoch);

describe('failover under load (real workerd, node processes, Redis)', () => {
  it('kill -9 of the master under ~50 searches/s: no failed search, a new master within ~5 s, a report with every step timed', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const load = startSearchLoad({ edgeUrl: cluster.state.edge_url, ratePerSec: 50, nextQuery });
    await sleep(1500);
    const killedAt = Date.now();
    await kill9(nodeById(cluster, before.master));
    // The loose bound, as an outcome: status polling shows the new master within ~5 s of the kill.
    const next = await waitNewMaster(cluster, before, 6000);
    await sleep(1500);
    const records = await load.stop();

    expect(next.master).toBe(standbyOf(before.master));
    expect(records.length).toBeGreaterThan(100);
    expect(failed(records)).toEqual([]);
    expect(records.some((r) => r.servedBy === next.master && r.startedAt > killedAt)).toBe(true);

    const [summary, ...more] = (await failoversSince(cluster, killedAt)).filter((f) => f.kind === 'failover');
    expect(more).toEqual([]);
    expect(summary).toMatchObject({
      from: before.master,
      to: next.master,
      outcome: 'succeeded',
      epoch: next.epoch,
    });
    const report = await failoverReport(cluster, summary!.id);
    expect(report.steps.map((s) => s.step)).toEqual([
      'fence',
      'degrade',
      'activate',
      'route',
      'verify',
      'report',
    ]);
    for (const step of report.steps) expect(step.at).toBeGreaterThanOrEqual(report.started_at);
    expect(report.steps.find((s) => s.step === 'degrade')!.ok).toBe(false); // the old master is dead: best effort
    expect(report.trigger.length).toBeGreaterThan(0);
    const routed = report.steps.find((s) => s.step === 'route')!.at;
    console.log(
      `[kill -9] ${records.length} searches, 0 failed; new master ${next.master} (epoch ${next.epoch}) routed ${routed - killedAt} ms after the kill, failover took ${report.duration_ms} ms; steps: ${report.steps.map((s) => `${s.step} +${s.at - killedAt}`).join(', ')}`,
    );
  }, 150_000);

  it('SIGSTOP of the master: no failed search, failover; after SIGCONT it is not master and a write at its old epoch is refused (409)', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const old = nodeById(cluster, before.master);
    const load = startSearchLoad({ edgeUrl: cluster.state.edge_url, ratePerSec: 50, nextQuery });
    await sleep(1500);
    const stoppedAt = Date.now();
    sigstop(old);
    let next: Awaited<ReturnType<typeof waitNewMaster>>;
    try {
      next = await waitNewMaster(cluster, before, 30_000);
    } finally {
      sigcont(old);
    }
    // Straight after SIGCONT the old master may still believe it is master at its old epoch (then
    // the fence in Redis, which has moved on, makes its own write path refuse: stale_epoch), or it
    // has already handled the degrade call that waited in its socket buffer (not_master).
    const write = await old.client.signed(
      'POST',
      '/api/v1/documents',
      { documents: [{ id: 'stale-write', text: 'written by a deposed master' }], wait: 'applied' },
      { epoch: before.epoch },
    );
    await sleep(1000);
    const records = await load.stop();

    expect(write.status).toBe(409);
    expect(['stale_epoch', 'not_master']).toContain((write.body as { error: { code: string } }).error.code);
    expect(failed(records)).toEqual([]);
    const status = await clusterStatus(cluster);
    expect(status.current_master).toBe(next.master);
    expect(status.current_master).not.toBe(before.master);
    await waitStandby(before.master, next.epoch);
    const doc = await cluster.adminFetch('/api/v1/documents/stale-write');
    expect(doc.status).toBe(404);
    const [summary] = (await failoversSince(cluster, stoppedAt)).filter((f) => f.kind === 'failover');
    console.log(
      `[SIGSTOP] ${records.length} searches, 0 failed; new master ${next.master} (epoch ${next.epoch}) seen ${next.at - stoppedAt} ms after SIGSTOP; failover ${summary?.id} ${summary?.outcome} in ${summary?.duration_ms} ms`,
    );
  }, 150_000);

  it('a master that answers 503 to everything is failed over', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const load = startSearchLoad({ edgeUrl: cluster.state.edge_url, ratePerSec: 30, nextQuery });
    await sleep(1000);
    const faultAt = Date.now();
    await injectFault(nodeById(cluster, before.master), { fail_rate: 1 });
    const next = await waitNewMaster(cluster, before, 30_000);
    await injectFault(nodeById(cluster, before.master), { clear: true });
    await sleep(1000);
    const records = await load.stop();

    expect(failed(records)).toEqual([]);
    const [summary] = (await failoversSince(cluster, faultAt)).filter((f) => f.kind === 'failover');
    const report = await failoverReport(cluster, summary!.id);
    expect(report).toMatchObject({ from: before.master, to: next.master, outcome: 'succeeded' });
    expect(report.trigger.some((t) => t.outcome === 'http_error' && t.status === 503)).toBe(true);
    await waitStandby(before.master, next.epoch);
    console.log(
      `[503 master] failover ${report.id} in ${report.duration_ms} ms, new master seen ${next.at - faultAt} ms after the fault`,
    );
  }, 150_000);

  it('a master overloaded for 30 s is never failed over, and reads move to the standby meanwhile', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const standby = standbyOf(before.master);
    const load = startSearchLoad({ edgeUrl: cluster.state.edge_url, ratePerSec: 25, nextQuery });
    const watch = watchMasters(cluster, 250);
    await sleep(1000);
    const faultAt = Date.now();
    await injectFault(nodeById(cluster, before.master), { overload: true, latency_ms: 300 });
    await sleep(30_000);
    const clearedAt = Date.now();
    await injectFault(nodeById(cluster, before.master), { clear: true });
    await sleep(500);
    const records = await load.stop();
    const samples = watch.stop();

    expect(failed(records)).toEqual([]);
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.every((s) => s.master === before.master && s.epoch === before.epoch)).toBe(true);
    expect((await failoversSince(cluster, faultAt)).filter((f) => f.kind !== 'election')).toEqual([]);
    // Two probe rounds and the routing TTL after the fault, reads go to the standby.
    const during = records.filter((r) => r.ok && r.startedAt > faultAt + 2000 && r.finishedAt < clearedAt);
    const onStandby = during.filter((r) => r.servedBy === standby).length;
    expect(during.length).toBeGreaterThan(100);
    expect(onStandby / during.length).toBeGreaterThan(0.9);
    console.log(
      `[overload 30 s] master ${before.master} kept epoch ${before.epoch}; ${onStandby}/${during.length} reads served by the standby ${standby}`,
    );
  }, 150_000);

  it('an activation whose canary fails is rolled back, and the report says so', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const standby = standbyOf(before.master);
    // The standby activates fine (activate is not failed) but every search on it answers 503.
    await injectFault(nodeById(cluster, standby), { fail_rate: 1, fail_paths: ['/api/v1/search'] });
    const load = startSearchLoad({ edgeUrl: cluster.state.edge_url, ratePerSec: 20, nextQuery });
    await sleep(500);
    const res = await cluster.adminFetch('/api/v1/admin/switchover', {
      method: 'POST',
      json: { to: standby },
    });
    await sleep(500);
    const records = await load.stop();
    await injectFault(nodeById(cluster, standby), { clear: true });

    const { report: answered } = (await res.json()) as { report: { id: string } };
    expect(res.status, JSON.stringify(answered)).toBe(200);
    const report = await failoverReport(cluster, answered.id);
    expect(report.outcome).toBe('rolled_back');
    expect(report.reason).toMatch(/rolled back \(canary on .+ failed/);
    expect(report.tried).toEqual([standby, before.master]);
    const canaryFailed = report.steps.find((s) => s.step === 'verify' && s.node === standby && !s.ok);
    expect(canaryFailed?.detail).toMatch(/canary search failed/);
    const last = report.steps.filter((s) => s.step === 'activate').at(-1)!;
    expect(last).toMatchObject({ node: before.master, ok: true });
    expect(report.steps.at(-1)!.step).toBe('report');
    const status = await clusterStatus(cluster);
    expect(status.current_master).toBe(before.master);
    expect(status.epoch).toBe(report.epoch);
    expect(report.epoch).toBeGreaterThanOrEqual(before.epoch + 2);
    expect(failed(records)).toEqual([]);
    await waitStandby(standby, report.epoch);
    console.log(
      `[canary rollback] ${report.id}: ${report.steps.map((s) => `${s.step}@${s.node ?? '-'}:${s.ok ? 'ok' : 'failed'}`).join(' ')}`,
    );
  }, 150_000);

  it('with every node down, search answers 503 with a clear error while the Worker stays healthy; a node that comes back rejoins as standby', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const standby = standbyOf(before.master);
    await Promise.all(cluster.nodes.map((n) => kill9(n)));

    // The edge learns within a few probes that nothing can serve; until then a search may still try.
    const answer = await until(
      'search to answer 503 no_node_available',
      async () => {
        const r = await searchOnce(cluster.state.edge_url, 'expense claim deadline');
        return r.status === 503 && r.error?.startsWith('no_node_available') ? r : null;
      },
      30_000,
      250,
    );
    expect(answer.error).toMatch(/no_node_available: .*(none up|every node tried failed)/);
    const raw = await fetch(`${cluster.state.edge_url}/api/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'vpn' }),
    });
    expect(raw.status).toBe(503);
    expect(raw.headers.get('retry-after')).toBe('2');
    expect(await raw.json()).toMatchObject({
      error: { code: 'no_node_available', message: expect.any(String) },
    });
    const statusRes = await fetch(`${cluster.state.edge_url}/api/v1/status`);
    expect(statusRes.status).toBe(200);
    await until(
      'the status to show no node up',
      async () =>
        (await clusterStatus(cluster)).nodes.every((n) => n.state === 'down' || n.state === 'suspect'),
      30_000,
      250,
    );
    const health = await fetch(`${cluster.state.edge_url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy', error: { code: 'no_healthy_master' } });

    // The standby comes back first and takes over (no candidate until then); then the old master
    // comes back and rejoins as a standby: no failback.
    await cluster.restartNode(standby);
    const next = await waitNewMaster(cluster, before, 60_000);
    expect(next.master).toBe(standby);
    expect((await searchOnce(cluster.state.edge_url, 'expense claim deadline')).ok).toBe(true);
    await cluster.restartNode(before.master);
    await waitStandby(before.master, next.epoch);
    await until(
      'the edge to show the old master up as standby',
      async () => {
        const s = await clusterStatus(cluster);
        const old = s.nodes.find((n) => n.id === before.master);
        return s.current_master === standby && old?.state === 'up' && old.role === 'standby';
      },
      30_000,
      200,
    );
  }, 180_000);
});
