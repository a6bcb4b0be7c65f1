/**
 * The read path through real workerd against fake nodes (test/edge/helpers/fake-node.ts):
 * hedged reads (a slow or hanging node costs about the hedge delay, and the loser is aborted),
 * reads balanced over every in-sync node, min_seq and consistency "master", and a node's 429
 * retried once elsewhere, then answered to the client with Retry-After; the per-client rate limit
 * (Workers Rate Limiting binding, as Miniflare runs it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeCluster, type FakeNodeSpec, startFakeCluster } from './helpers/fake-cluster.ts';
import type { FakeNode } from './helpers/fake-node.ts';
import { type EdgeHandle, startEdge, waitFor } from './helpers/miniflare.ts';

const VARS = {
  PROBE_INTERVAL_MS: '100',
  PROBE_TIMEOUT_MS: '300',
  FAIL_THRESHOLD: '3',
  ACTIVATE_VERIFY_MS: '2000',
  HEDGE_FLOOR_MS: '40',
  HEDGE_CAP_MS: '150',
  // Searches without a key: these tests are about routing, not access.
  PUBLIC_SEARCH: 'true',
};

/** edge/env.ts COORDINATOR_NAME (that module is typed for workerd, not for these tests). */
const COORDINATOR_NAME = 'cluster';

let running: FakeCluster | undefined;
let nodes: FakeNode[] = [];

afterEach(async () => {
  await running?.edge.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  running = undefined;
  nodes = [];
});

/** A cluster whose master is elected and whose every node the Worker's table shows in sync. */
async function ready(
  specs: FakeNodeSpec[],
  master: string,
  vars: Record<string, string> = {},
): Promise<FakeCluster> {
  running = await startFakeCluster(specs, { ...VARS, ...vars }, (node) => nodes.push(node));
  const { edge } = running;
  await waitFor(`${master} elected, all nodes up`, async () => {
    const s = (await (await edge.admin('/api/v1/status')).json()) as {
      current_master: string | null;
      failover_in_progress: boolean;
      nodes: { state: string; lag_entries: number | null }[];
    };
    return (
      s.current_master === master &&
      !s.failover_in_progress &&
      s.nodes.every((n) => n.state === 'up' && n.lag_entries === 0)
    );
  });
  // The Worker caches its table up to 1 s: wait until it routes to every node.
  await waitFor(
    'the Worker to see a healthy master',
    async () => (await edge.fetch('/health')).status === 200,
  );
  await new Promise((r) => setTimeout(r, 1100));
  return running;
}

const search = (e: EdgeHandle, extra: Record<string, unknown> = {}) =>
  e.fetch('/api/v1/search', { method: 'POST', json: { query: 'where is the answer', ...extra } });

async function timed(e: EdgeHandle, extra: Record<string, unknown> = {}) {
  const started = Date.now();
  const res = await search(e, extra);
  const body = (await res.json()) as { served_by?: { node: string; applied_seq?: string } };
  return { res, body, ms: Date.now() - started };
}

describe('read path (workerd + fake nodes)', () => {
  it('a slow or hanging first node costs a read about the hedge delay, not the attempt timeout', async () => {
    const { edge, byId } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 's', appliedSeq: '9-0', priority: 10 },
      ],
      'm',
    );
    byId.m!.searchLatencyMs = 1000;
    // consistency "master" puts the slow master first every time; the hedge goes to s.
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await timed(edge, { consistency: 'master' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('s');
      expect(res.headers.get('x-gte-hedged')).toBe('1');
      expect(res.headers.get('x-gte-attempts')).toBe('2');
      expect(ms).toBeLessThan(700); // the attempt timeout is 1500 ms, the slow node 1000 ms
    }
    // The losers were cancelled: the slow node saw its callers go away.
    await waitFor('the slow attempts to be aborted', async () => byId.m!.aborted >= 5);
    // Balanced reads: the slow node is hedged around, then avoided.
    for (let i = 0; i < 10; i++) {
      const { res, ms } = await timed(edge);
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(700);
    }
    byId.m!.searchLatencyMs = 0;
    byId.m!.mode = 'hang';
    const hung = await timed(edge, { consistency: 'master' });
    expect(hung.res.status).toBe(200);
    expect(hung.res.headers.get('x-served-by')).toBe('s');
    expect(hung.ms).toBeLessThan(700);
    byId.m!.mode = 'ok';
    // A fast first answer is no hedge.
    const quick = await timed(edge, { consistency: 'master' });
    expect(quick.res.headers.get('x-served-by')).toBe('m');
    expect(quick.res.headers.get('x-gte-hedged')).toBeNull();
  });

  it('a read the hedge budget refused asks it again, and hedges once other reads have earned a token', async () => {
    // 50 % budget: a read earns half a token, a hedge spends one; the bucket starts full (10).
    const { edge, byId } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 's', appliedSeq: '9-0' },
      ],
      'm',
      { HEDGE_BUDGET_PERCENT: '50' },
    );
    // The master's searches take longer than the attempt timeout (its /health stays fine).
    byId.m!.searchLatencyMs = 5000;
    // Nineteen hedged reads empty the bucket exactly: 10 - 1 + 18 × (0.5 - 1) = 0.
    for (let i = 0; i < 19; i++) {
      const { res } = await timed(edge, { consistency: 'master' });
      expect(res.headers.get('x-gte-hedged'), `read ${i + 1}`).toBe('1');
    }
    // This read earns half a token: refused at its hedge delay. A second read, started after
    // that, earns the other half; the first read takes it instead of waiting out the attempt
    // timeout on the master.
    const first = timed(edge, { consistency: 'master' });
    await new Promise((r) => setTimeout(r, 400));
    const second = timed(edge, { consistency: 'master' });
    const { res } = await first;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('s');
    expect(res.headers.get('x-gte-hedged')).toBe('1');
    expect((await second).res.status).toBe(200);
  });

  it('balances searches over the master and every in-sync standby, each a fair share', async () => {
    const { edge } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 'a', appliedSeq: '9-0' },
        { id: 'b', appliedSeq: '9-0' },
      ],
      'm',
    );
    const served: Record<string, number> = {};
    const total = 90;
    for (let i = 0; i < total; i++) {
      const { res, body } = await timed(edge);
      expect(res.status).toBe(200);
      const by = res.headers.get('x-served-by')!;
      served[by] = (served[by] ?? 0) + 1;
      // The answer says the position it was served at, in the body and a header.
      expect(body.served_by?.applied_seq).toBe('9-0');
      expect(res.headers.get('x-gte-applied-seq')).toBe('9-0');
    }
    for (const id of ['m', 'a', 'b'])
      expect(served[id] ?? 0, JSON.stringify(served)).toBeGreaterThan(total * 0.2);
  });

  it('min_seq reads go to nodes that have applied it; consistency "master" reads the master', async () => {
    const { edge, byId } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 'a', appliedSeq: '9-0' },
      ],
      'm',
    );
    // A replication delay: the standby is behind the write the client just made (12-0) but
    // still within the lag bound, so plain reads keep going to it too.
    byId.m!.state.appliedSeq = '12-0';
    byId.a!.state.lagEntries = 3;
    await new Promise((r) => setTimeout(r, 1300)); // probes, then the Worker's 1 s table cache
    for (let i = 0; i < 20; i++) {
      const { res, body } = await timed(edge, { min_seq: '12-0' });
      expect(res.status).toBe(200);
      expect(body.served_by).toMatchObject({ node: 'm', applied_seq: '12-0' });
      expect(res.headers.get('x-gte-attempts')).toBe('1');
    }
    for (let i = 0; i < 5; i++)
      expect((await timed(edge, { consistency: 'master' })).body.served_by?.node).toBe('m');
    // Nobody has applied it yet: the master is asked first, then the others; 409 behind.
    const ahead = await search(edge, { min_seq: '99-0' });
    expect(ahead.status).toBe(409);
    expect(await ahead.json()).toMatchObject({ error: { code: 'behind' } });
    // The node itself got min_seq (it checks too), but not the edge-only consistency field.
    expect(byId.m!.callsTo('/api/v1/search').at(-1)?.body).toMatchObject({ min_seq: '99-0' });
    expect(byId.m!.callsTo('/api/v1/search').every((c) => !('consistency' in (c.body as object)))).toBe(true);
  });

  it("a write newer than the table: standbys serve, checking the isolate's seq; none answers older than it", async () => {
    const { edge, byId } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 'a', appliedSeq: '9-0' },
      ],
      'm',
    );
    // A write acknowledged at 20-0: newer than any position the table holds.
    byId.m!.writeAnswer = 'applied';
    byId.m!.appliedWriteSeq = '20-0';
    const write = await edge.admin('/api/v1/documents', {
      method: 'POST',
      json: { documents: [{ id: 'd1', text: 'x' }], wait: 'applied' },
    });
    expect(write.status).toBe(200);
    byId.a!.state.appliedSeq = '20-0'; // the standby has it (the table cannot know yet)
    const served: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const { res } = await timed(edge);
      expect(res.status).toBe(200);
      const by = res.headers.get('x-served-by')!;
      served[by] = (served[by] ?? 0) + 1;
    }
    // Balanced as before the write; the standby was asked to check the position itself.
    expect(served.a ?? 0, JSON.stringify(served)).toBeGreaterThan(5);
    expect(byId.a!.callsTo('/api/v1/search').at(-1)?.body).toMatchObject({ min_seq: '20-0' });
    expect(byId.m!.callsTo('/api/v1/search').every((c) => !('min_seq' in (c.body as object)))).toBe(true);
    // The standby falls behind and the master hangs: the standby is asked again with the seq,
    // allowed to wait for its applier, and answers once it has caught up.
    byId.a!.state.appliedSeq = '15-0';
    byId.m!.mode = 'hang';
    const before = byId.a!.callsTo('/api/v1/search').length;
    const catchUp = setInterval(() => {
      if (byId.a!.calls.some((call) => call.minSeqWait !== null)) byId.a!.state.appliedSeq = '20-0';
    }, 20);
    const { res } = await timed(edge, { consistency: 'master' }).finally(() => clearInterval(catchUp));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('a');
    const asked = byId.a!.callsTo('/api/v1/search').slice(before);
    expect(asked.map((call) => call.body)).toEqual([
      expect.objectContaining({ min_seq: '20-0' }),
      expect.objectContaining({ min_seq: '20-0' }),
    ]);
    expect(asked.map((call) => call.minSeqWait)).toEqual([null, expect.stringMatching(/^\d+$/)]);
    // It stays behind: 409 behind, never an answer older than the acknowledged write.
    byId.a!.state.appliedSeq = '15-0';
    for (const call of byId.a!.calls) call.minSeqWait = null;
    const again = await search(edge, { consistency: 'master' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'behind' } });
    // (The coordinator's canary probes are not reads of this client's: left out.)
    const since = byId
      .a!.callsTo('/api/v1/search')
      .slice(before)
      .filter((call) => (call.body as { query?: string }).query !== 'gte-pro canary');
    expect(since.length).toBeGreaterThan(2);
    expect(since.every((call) => 'min_seq' in (call.body as object))).toBe(true);
  });

  it("a node's 429 is retried on one other node at most, then answered 429 with Retry-After", async () => {
    const { edge, byId } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 'a', appliedSeq: '9-0' },
        { id: 'b', appliedSeq: '9-0' },
      ],
      'm',
    );
    for (const n of Object.values(byId)) n.overloadSearch = true;
    const before = Object.values(byId).reduce((sum, n) => sum + n.callsTo('/api/v1/search').length, 0);
    const res = await search(edge);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-gte-attempts')).toBe('2');
    expect(await res.json()).toMatchObject({ error: { code: 'overloaded' } });
    const after = Object.values(byId).reduce((sum, n) => sum + n.callsTo('/api/v1/search').length, 0);
    expect(after - before).toBe(2); // not one per node
    // One node overloaded: the retry elsewhere answers.
    byId.a!.overloadSearch = false;
    byId.b!.overloadSearch = false;
    const ok = await search(edge, { consistency: 'master' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-gte-attempts')).toBe('2');
    // Overload is not failure: the master stays up, nothing failed over.
    const s = (await (await edge.admin('/api/v1/status')).json()) as {
      current_master: string;
      epoch: number;
    };
    expect(s).toMatchObject({ current_master: 'm', epoch: 1 });
  });

  it('routes from the last good table while the coordinator RPC fails or hangs, for a bounded time', async () => {
    const { edge } = await ready(
      [
        { id: 'm', appliedSeq: '9-0', priority: 200 },
        { id: 's', appliedSeq: '9-0' },
      ],
      'm',
      { TEST_HOOKS: 'true', ROUTING_RPC_TIMEOUT_MS: '600', ROUTING_STALE_MAX_MS: '5000' },
    );
    const ns = await edge.mf.getDurableObjectNamespace('COORDINATOR');
    const coordinatorStub = ns.get(ns.idFromName(COORDINATOR_NAME)) as unknown as {
      setRoutingFault(fault: 'fail' | 'hang' | null): Promise<void>;
    };
    // The Worker's last good table is at most this old from here on.
    const freshAt = Date.now();
    const fresh = await search(edge);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('x-gte-routing')).toBeNull();
    await coordinatorStub.setRoutingFault('fail');
    await new Promise((r) => setTimeout(r, 1100)); // past the Worker's 1 s table cache
    for (const [fault, reads] of [
      ['fail', 3],
      ['hang', 1],
    ] as const) {
      await coordinatorStub.setRoutingFault(fault);
      for (let i = 0; i < reads; i++) {
        const res = await search(edge);
        expect(res.status, fault).toBe(200);
        expect(res.headers.get('x-gte-routing'), fault).toMatch(/^stale; age=\d+$/);
      }
    }
    // Past ROUTING_STALE_MAX_MS the table is too old to route by: 503 naming the coordinator.
    await new Promise((r) => setTimeout(r, Math.max(0, freshAt + 5200 - Date.now())));
    const tooOld = await search(edge);
    expect(tooOld.status).toBe(503);
    expect(await tooOld.json()).toMatchObject({ error: { code: 'coordinator_unavailable' } });
    await coordinatorStub.setRoutingFault(null);
    const back = await search(edge);
    expect(back.status).toBe(200);
    expect(back.headers.get('x-gte-routing')).toBeNull();
    // Without TEST_HOOKS the hook refuses.
    const plain = await startEdge({ vars: { PUBLIC_SEARCH: 'true' } });
    try {
      const pns = await plain.mf.getDurableObjectNamespace('COORDINATOR');
      const stub = pns.get(pns.idFromName(COORDINATOR_NAME)) as unknown as typeof coordinatorStub;
      // (Miniflare's proxy does not carry the message across; the Worker's log has it.)
      await expect(stub.setRoutingFault('fail')).rejects.toThrow();
    } finally {
      await plain.stop();
    }
  });

  it('limits each client with the rate limiting binding: 429 rate_limited with Retry-After, before any node', async () => {
    const edge = await startEdge({
      vars: { PUBLIC_SEARCH: 'true' },
      ratelimits: { SEARCH_RATE_LIMITER: { simple: { limit: 3, period: 60 } } },
    });
    try {
      const as = (key: string) =>
        edge.fetch('/api/v1/search', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}` },
          json: { query: 'q' },
        });
      // No node is registered: within the limit the edge answers 503, over it 429.
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await as('client-a')).status);
      expect(statuses).toEqual([503, 503, 503, 429]);
      const limited = await as('client-a');
      expect(limited.headers.get('retry-after')).toBe('10');
      expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
      // Another client has its own budget.
      expect((await as('client-b')).status).toBe(503);
    } finally {
      await edge.stop();
    }
  });
});
