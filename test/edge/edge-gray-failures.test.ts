/**
 * Gray failures the coordinator must act on, through real workerd against fake nodes: a master
 * that answers every probe but cannot write is failed over (while a standby can), and a node an
 * operator removes is also removed from the log's trim set, through a call to the master.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeNode, type FakeNode } from './helpers/fake-node.ts';
import { startEdge, waitFor, type EdgeHandle } from './helpers/miniflare.ts';

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

interface Status {
  current_master: string | null;
  epoch: number;
  failover_in_progress: boolean;
  last_failover: { kind: string; outcome: string; from: string | null; to: string; reason?: string } | null;
}

async function twoNodes(): Promise<{ edge: EdgeHandle; m: FakeNode; s: FakeNode }> {
  const secret = `secret-${crypto.randomUUID()}`;
  const m = await startFakeNode({ id: 'm', secret, state: { appliedSeq: '9-0' } });
  const s = await startFakeNode({ id: 's', secret, state: { appliedSeq: '8-0' } });
  nodes.push(m, s);
  const seed = [m, s].map((n) => ({ id: n.id, url: n.url, priority: 100 }));
  edge = await startEdge({ clusterSecret: secret, vars: { ...VARS, NODES: JSON.stringify(seed) } });
  expect((await edge.fetch('/health')).status).toBe(503); // arms the probe loop
  await waitStatus(edge, 'm elected', (st) => st.current_master === 'm' && !st.failover_in_progress);
  return { edge, m, s };
}

const status = async (e: EdgeHandle) => (await (await e.fetch('/api/v1/status')).json()) as Status;
const waitStatus = (e: EdgeHandle, what: string, ok: (s: Status) => boolean) =>
  waitFor(what, async () => {
    const s = await status(e);
    return ok(s) ? s : null;
  });

describe('coordinator and gray failures', () => {
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

  it('tells the master to forget a removed node, so the log can be trimmed again', async () => {
    const { edge, m } = await twoNodes();
    const removed = await edge.admin('/api/v1/admin/nodes/s', { method: 'DELETE' });
    expect(removed.status).toBe(200);
    await waitFor('the master to be told', async () =>
      m.calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/peers/s'),
    );
  });
});
