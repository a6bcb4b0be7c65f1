/**
 * Routing and failover through real workerd against fake nodes (test/edge/helpers/fake-node.ts):
 * election of a first master, search routing and its headers, a dead master replaced by the
 * freshest standby, rejoin as standby without failback, overload shedding reads without
 * failover, planned switchover ordering, epoch-fenced writes, and gray failures: a master that
 * cannot write, a master whose fence Redis lost, and a removed node that must leave the log's
 * trim set.
 * Full-stack tests with real search node processes live with the integration tests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeNodeSpec } from './helpers/fake-cluster.ts';
import type { FakeNode } from './helpers/fake-node.ts';
import { waitFor, type EdgeHandle } from './helpers/miniflare.ts';

interface Status {
  current_master: string | null;
  epoch: number;
  standby_status: string;
  failover_in_progress: boolean;
  nodes: { id: string; role: string; state: string; consecutive_failures: number }[];
  last_failover: { id: string; kind: string; outcome: string; from: string | null; to: string } | null;
  redis?: { kind: string; state: string; replicas: number | null; fence: number | null } | null;
}

const VARS = {
  PROBE_INTERVAL_MS: '100',
  PROBE_TIMEOUT_MS: '300',
  FAIL_THRESHOLD: '3',
  ACTIVATE_VERIFY_MS: '2000',
};

let edge: EdgeHandle | undefined;
let nodes: FakeNode[] = [];

afterEach(async () => {
  await edge?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  edge = undefined;
  nodes = [];
});

async function cluster(specs: FakeNodeSpec[]): Promise<{ edge: EdgeHandle; byId: Record<string, FakeNode> }> {
  const started = await startFakeCluster(specs, VARS, (node) => nodes.push(node));
  edge = started.edge;
  return started;
}

/** Waits until the master has answered a probe after its activation (so its last health says master). */
async function masterProbedAfterActivation(node: FakeNode): Promise<void> {
  const activatedAt = node.callsTo('/api/v1/activate').at(-1)!.at;
  await waitFor(
    `${node.id} probed as master`,
    async () => node.callsTo('/health').filter((c) => c.at > activatedAt).length >= 2,
  );
}

const status = async (e: EdgeHandle) => (await (await e.fetch('/api/v1/status')).json()) as Status;
const waitStatus = (e: EdgeHandle, what: string, ok: (s: Status) => boolean) =>
  waitFor(what, async () => {
    const s = await status(e);
    return ok(s) ? s : null;
  });
const search = (e: EdgeHandle) =>
  e.keyed('/api/v1/search', { method: 'POST', json: { query: 'where is the answer' } });
/** Master first (the order these routing tests check); plain searches are balanced (edge-reads.test.ts). */
const searchMaster = (e: EdgeHandle) =>
  e.keyed('/api/v1/search', {
    method: 'POST',
    json: { query: 'where is the answer', consistency: 'master' },
  });

describe('edge routing and failover (workerd + fake nodes)', () => {
  it('elects the freshest ready node on a fresh cluster and routes searches to it', async () => {
    const { edge, byId } = await cluster([
      { id: 'a', appliedSeq: '5-0' },
      { id: 'b', appliedSeq: '9-0' },
    ]);
    const s = await waitStatus(edge, 'a master', (s) => s.current_master !== null && !s.failover_in_progress);
    expect(s.current_master).toBe('b');
    expect(s.epoch).toBe(1);
    expect(byId.b!.state).toMatchObject({ role: 'master', epoch: 1 });
    expect(s.last_failover).toMatchObject({ kind: 'election', outcome: 'succeeded', to: 'b' });
    // the other node is told who the master is and the epoch
    await waitFor('a to follow b', async () => byId.a!.state.epoch === 1 && byId.a!.state.master === 'b');

    await waitFor('edge health 200', async () => (await edge.fetch('/health')).status === 200);
    expect(await (await edge.fetch('/health')).json()).toEqual({
      status: 'healthy',
      role: 'master',
      master: 'b',
      epoch: 1,
    });
    const res = await searchMaster(edge);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('b');
    expect(res.headers.get('x-gte-epoch')).toBe('1');
    expect(res.headers.get('x-gte-attempts')).toBe('1');
    expect(await res.json()).toMatchObject({
      results: [{ id: 'doc-1' }],
      served_by: { node: 'b', role: 'master', epoch: 1 },
    });
    // the node got the normalised body: defaults filled in by the edge's validation
    // (consistency is the edge's own routing field: the node never sees it)
    expect(byId.b!.callsTo('/api/v1/search').at(-1)?.body).toEqual({
      query: 'where is the answer',
      top_k: 5,
      mode: 'hybrid',
      include_text: true,
    });
  });

  it('retries a failing node on the next one and fails over a dead master to the freshest standby', async () => {
    const { edge, byId } = await cluster([
      { id: 'm', appliedSeq: '9-0', priority: 100 },
      { id: 's1', appliedSeq: '8-0', priority: 100 },
      { id: 's2', appliedSeq: '9-0', priority: 10 },
    ]);
    await waitStatus(edge, 'm master', (s) => s.current_master === 'm' && !s.failover_in_progress);
    await masterProbedAfterActivation(byId.m!);
    // The Worker caches the routing table up to 1 s: wait until its copy knows the elected master.
    await waitFor(
      'the Worker to see a healthy master',
      async () => (await edge.fetch('/health')).status === 200,
    );

    // A node whose search breaks while /health stays fine: the request is retried elsewhere.
    byId.m!.failSearch = true;
    const retried = await searchMaster(edge);
    expect(retried.status).toBe(200);
    expect(Number(retried.headers.get('x-gte-attempts'))).toBe(2);
    expect(retried.headers.get('x-served-by')).toBe('s2'); // freshest standby: 9-0 beats s1's 8-0 despite the lower priority
    byId.m!.failSearch = false;

    await byId.m!.kill();
    const s = await waitStatus(
      edge,
      'failover to s2',
      (s) => s.current_master === 's2' && !s.failover_in_progress,
    );
    expect(s.epoch).toBe(2);
    expect(s.last_failover).toMatchObject({ kind: 'failover', outcome: 'succeeded', from: 'm', to: 's2' });
    expect(byId.s2!.state).toMatchObject({ role: 'master', epoch: 2 });

    const list = (await (await edge.admin('/api/v1/failovers')).json()) as {
      failovers: { id: string; kind: string }[];
    };
    const failover = list.failovers.find((f) => f.kind === 'failover')!;
    const report = (await (await edge.admin(`/api/v1/failovers/${failover.id}`)).json()) as Record<
      string,
      unknown
    > & { steps: { step: string; ok: boolean }[]; trigger: { outcome: string }[] };
    expect(report.steps.map((st) => st.step)).toEqual([
      'fence',
      'degrade',
      'activate',
      'route',
      'verify',
      'report',
    ]);
    expect(report.steps.find((st) => st.step === 'degrade')?.ok).toBe(false); // m is dead: best effort
    expect(report.trigger.length).toBeGreaterThanOrEqual(3);
    expect(report.trigger.every((t) => t.outcome !== 'ok')).toBe(true);
    expect(report.old_master_health).toMatchObject({ node: 'm', role: 'master' });
    expect(report.diagnostics).toHaveProperty('unavailable');

    // Within the Worker's ≤ 1 s cache a search may still carry epoch 1 (served by s2 after m fails).
    const after = await waitFor('a search under epoch 2', async () => {
      const res = await searchMaster(edge);
      return res.headers.get('x-gte-epoch') === '2' ? res : null;
    });
    expect(after.status).toBe(200);
    expect(after.headers.get('x-served-by')).toBe('s2');
    expect(after.headers.get('x-gte-attempts')).toBe('1');

    // The old master comes back: it rejoins as a standby of s2, no failback.
    await byId.m!.revive();
    await waitFor(
      'm to rejoin as standby',
      async () =>
        byId.m!.state.role === 'standby' && byId.m!.state.epoch === 2 && byId.m!.state.master === 's2',
    );
    const final = await waitStatus(
      edge,
      'm up as standby',
      (s) => s.nodes.find((n) => n.id === 'm')?.state === 'up',
    );
    expect(final.current_master).toBe('s2');
    expect(byId.m!.callsTo('/api/v1/activate')).toHaveLength(1); // only the first election

    const metrics = await (await edge.fetch('/metrics')).text();
    expect(metrics).toMatch(/^gte_pro_failover_count_total 1$/m);
    expect(metrics).toMatch(/^gte_pro_epoch 2$/m);
  });

  it('an overloaded master sheds reads to standbys and is never failed over for it', async () => {
    const { edge, byId } = await cluster([
      { id: 'm', appliedSeq: '9-0' },
      { id: 's', appliedSeq: '8-0' },
    ]);
    await waitStatus(edge, 'm master', (s) => s.current_master === 'm' && !s.failover_in_progress);
    byId.m!.state.overloaded = true;
    byId.m!.state.gpuUtil = 100;
    await waitStatus(edge, 'm overloaded', (s) => s.nodes.find((n) => n.id === 'm')?.state === 'overloaded');
    // well past FAIL_THRESHOLD probe rounds while overloaded
    const probesBefore = byId.m!.callsTo('/health').length;
    await waitFor('ten more probes of m', async () => byId.m!.callsTo('/health').length > probesBefore + 10);
    await waitFor('reads shed to the standby', async () => {
      const res = await search(edge);
      return res.headers.get('x-served-by') === 's';
    });
    const s = await status(edge);
    expect(s.current_master).toBe('m');
    expect(s.epoch).toBe(1);
    expect(s.last_failover?.kind).toBe('election');
    expect((await edge.fetch('/health')).status).toBe(200);
  });

  it('a planned switchover activates the standby before the master steps down, and writes follow the epoch', async () => {
    const { edge, byId } = await cluster([
      { id: 'm', appliedSeq: '9-0' },
      { id: 's', appliedSeq: '9-0', priority: 10 },
    ]);
    await waitStatus(edge, 'm master', (s) => s.current_master === 'm' && !s.failover_in_progress);

    const write = await edge.admin('/api/v1/documents', {
      method: 'POST',
      json: { documents: [{ id: 'd1', text: 'hello' }] },
    });
    expect(write.status).toBe(202);
    expect(write.headers.get('x-served-by')).toBe('m');
    expect(byId.m!.callsTo('/api/v1/documents').at(-1)?.epochHeader).toBe('1');

    const res = await edge.admin('/api/v1/admin/switchover', { method: 'POST', json: { to: 's' } });
    expect(res.status).toBe(200);
    const { report } = (await res.json()) as {
      report: { outcome: string; steps: { step: string }[]; epoch: number; diagnostics: unknown };
    };
    expect(report.outcome).toBe('succeeded');
    // The old master (already demoted when the report is written) answered /api/v1/diagnostics,
    // parsed as NodeDiagnostics (shared/schemas.ts).
    expect(report.diagnostics).toMatchObject({
      node: 'm',
      role: { role: 'standby', epoch: 2, master: 's' },
      health: { node: 'm' },
    });
    expect(report.steps.map((st) => st.step)).toEqual([
      'fence',
      'activate',
      'route',
      'verify',
      'demote',
      'report',
    ]);
    const activatedAt = byId.s!.callsTo('/api/v1/activate').at(-1)!.at;
    const demotedAt = byId.m!.callsTo('/api/v1/standby').at(-1)!.at;
    expect(activatedAt).toBeLessThanOrEqual(demotedAt);
    expect(byId.m!.callsTo('/api/v1/degrade')).toHaveLength(0); // the old master keeps serving reads as a standby
    expect(byId.m!.state).toMatchObject({ role: 'standby', epoch: 2, master: 's' });

    // A write through an isolate that may still hold the old table: 409 → refresh → retried on the new master.
    const after = await edge.admin('/api/v1/documents', {
      method: 'POST',
      json: { documents: [{ id: 'd2', text: 'again' }] },
    });
    expect(after.status).toBe(202);
    expect(after.headers.get('x-served-by')).toBe('s');
    expect(after.headers.get('x-gte-epoch')).toBe('2');
    expect(byId.s!.callsTo('/api/v1/documents').at(-1)?.epochHeader).toBe('2');

    const again = await edge.admin('/api/v1/admin/switchover', { method: 'POST', json: { to: 's' } });
    expect(again.status).toBe(409);
  });

  it("answers 202 with the job id when the master's wait times out: one write, no retry, no failure", async () => {
    const { edge, byId } = await cluster([
      { id: 'm', appliedSeq: '9-0' },
      { id: 's', appliedSeq: '8-0' },
    ]);
    await waitStatus(edge, 'm master', (s) => s.current_master === 'm' && !s.failover_in_progress);
    byId.m!.writeAnswer = 'wait_timeout';
    const res = await edge.admin('/api/v1/documents', {
      method: 'POST',
      headers: { 'x-request-id': 'slow-write-1' },
      json: {
        documents: [
          { id: 'd1', text: 'hello' },
          { id: 'd2', text: 'again' },
        ],
        wait: 'replicated',
      },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-served-by')).toBe('m');
    const body = (await res.json()) as { job_id: string; accepted: number; status: string; message: string };
    expect(body).toMatchObject({ job_id: expect.stringMatching(/^job-\d+$/), accepted: 2, status: 'queued' });
    expect(body.message).toContain(`job ${body.job_id} accepted but not finished`);

    const writes = byId.m!.callsTo('/api/v1/documents');
    expect(writes).toHaveLength(1); // never re-sent, not to the master, not to the standby
    expect(byId.s!.callsTo('/api/v1/documents')).toHaveLength(0);
    expect(writes[0]!.requestId).toBe('slow-write-1'); // the edge's request id travels to the node
    expect(writes[0]!.body).toMatchObject({ wait: 'replicated' });

    // Not a node failure: nothing reported to the coordinator, the master stays up and master.
    await new Promise((r) => setTimeout(r, 300));
    const reported = edge
      .logs()
      .filter(
        (l) => l.request_id === 'slow-write-1' && /^(upstream|request_failure)\./.test(String(l.event)),
      );
    expect(reported).toEqual([]);
    const after = await status(edge);
    expect(after.current_master).toBe('m');
    expect(after.nodes.find((n) => n.id === 'm')).toMatchObject({ state: 'up', consecutive_failures: 0 });
    expect(after.last_failover).toMatchObject({ kind: 'election' });
  });

  it('rolls back when the chosen standby cannot be activated', async () => {
    const { edge, byId } = await cluster([
      { id: 'm', appliedSeq: '9-0', priority: 200 },
      { id: 'bad', appliedSeq: '9-0', priority: 100 },
      { id: 'ok', appliedSeq: '8-0', priority: 10 },
    ]);
    await waitStatus(edge, 'm master', (s) => s.current_master === 'm' && !s.failover_in_progress);
    byId.bad!.failActivate = true;
    await byId.m!.kill();
    const s = await waitStatus(
      edge,
      'failover to ok',
      (s) => s.current_master === 'ok' && !s.failover_in_progress,
    );
    expect(s.last_failover).toMatchObject({ kind: 'failover', outcome: 'rolled_back', to: 'ok' });
    expect(s.epoch).toBe(3); // 2 for the failed attempt on "bad", 3 for "ok"
    expect(byId.ok!.state).toMatchObject({ role: 'master', epoch: 3 });
  });
});

describe('coordinator and gray failures (workerd + fake nodes)', () => {
  const twoNodes = async () => {
    const { edge, byId } = await cluster([
      { id: 'm', appliedSeq: '9-0' },
      { id: 's', appliedSeq: '8-0' },
    ]);
    await waitStatus(edge, 'm elected', (st) => st.current_master === 'm' && !st.failover_in_progress);
    return { edge, m: byId.m!, s: byId.s! };
  };

  it("fails over a master whose write path is broken, while the standby's works", async () => {
    const { edge, m, s } = await twoNodes();
    m.state.writePath = 'redis: unreachable';
    const after = await waitStatus(
      edge,
      'failover to s',
      (st) => st.current_master === 's' && !st.failover_in_progress,
    );
    expect(after.last_failover).toMatchObject({ kind: 'failover', outcome: 'succeeded', from: 'm', to: 's' });
    expect(s.state).toMatchObject({ role: 'master', epoch: 2 });
  });

  it('keeps the master when no standby could write either', async () => {
    const { edge, m, s } = await twoNodes();
    m.state.writePath = 'redis: unreachable';
    s.state.writePath = 'redis: unreachable';
    // Many probe rounds (100 ms apart) with the write path reported broken on both.
    const probesBefore = m.callsTo('/health').length;
    await waitFor('20 more probes of m', async () => m.callsTo('/health').length >= probesBefore + 20);
    expect(await status(edge)).toMatchObject({ current_master: 'm', epoch: 1 });
  });

  it('re-activates the master at its epoch when Redis lost the fence, without a failover', async () => {
    const { edge, m } = await twoNodes();
    await masterProbedAfterActivation(m);
    const activations = m.callsTo('/api/v1/activate').length;
    // A Redis failover dropped the fence raise: the master reads a fence below its epoch.
    m.state.redisFence = 0;
    await waitFor('m re-activated', async () => m.callsTo('/api/v1/activate').length > activations);
    expect(m.callsTo('/api/v1/activate').at(-1)!.body).toEqual({ epoch: 1 });
    expect(m.state.redisFence).toBe(1);
    expect(await status(edge)).toMatchObject({
      current_master: 'm',
      epoch: 1,
      last_failover: { kind: 'election' },
    });
    // The status shows Redis as the master reports it, healthy again once the fence is back.
    await waitStatus(edge, 'Redis ok in the status', (st) => st.redis?.state === 'ok');
    expect((await status(edge)).redis).toMatchObject({
      kind: 'sentinel',
      replicas: 1,
      fence: 1,
      reported_by: 'm',
    });
  });

  it('tells the master to forget a removed node, so the log can be trimmed again', async () => {
    const { edge, m } = await twoNodes();
    const removed = await edge.admin('/api/v1/admin/nodes/s', { method: 'DELETE' });
    expect(removed.status).toBe(200);
    await waitFor('the master to be told', async () =>
      m.calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/peers/s'),
    );
  });
});
