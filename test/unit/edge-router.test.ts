import { describe, expect, it } from 'vitest';
import {
  balancedCandidates,
  freshEnough,
  type NodeLoad,
  type ReadOptions,
  readOrder,
  staleForReads,
  type RoutedNode,
  type RoutingTable,
  searchOrder,
  SHED_MAX_BEHIND_MS,
  withReportedPositions,
  writeTarget,
} from '../../edge/router.ts';

function node(id: string, over: Partial<RoutedNode> = {}): RoutedNode {
  return {
    id,
    url: `http://${id}`,
    priority: 100,
    role: 'standby',
    state: 'up',
    appliedSeq: '10-0',
    lagEntries: 0,
    lagMs: 0,
    overloaded: false,
    ...over,
  };
}
function table(nodes: RoutedNode[], master: string | null = 'm'): RoutingTable {
  return { epoch: 4, master, nodes, generatedAt: 0 };
}
const ids = (nodes: RoutedNode[]) => nodes.map((n) => n.id);

describe('router', () => {
  it('tries the master first, then standbys by freshness', () => {
    const t = table([
      node('s-old', { lagEntries: 50, appliedSeq: '5-0' }),
      node('m', { role: 'master' }),
      node('s-fresh', { lagEntries: 0, appliedSeq: '10-0' }),
      node('s-mid', { lagEntries: 3, appliedSeq: '9-0' }),
    ]);
    expect(ids(searchOrder(t))).toEqual(['m', 's-fresh', 's-mid', 's-old']);
  });

  it('sheds reads from an overloaded master to standbys, keeping it as a fallback', () => {
    const t = table([
      node('m', { role: 'master', state: 'overloaded', overloaded: true }),
      node('s1'),
      node('s2', { lagEntries: 1 }),
    ]);
    expect(ids(searchOrder(t))).toEqual(['s1', 's2', 'm']);
  });

  it('never tries down or starting nodes, nor degraded ones', () => {
    const t = table([
      node('m', { role: 'master', state: 'down' }),
      node('s1', { state: 'starting' }),
      node('s2', { state: 'suspect' }),
      node('s3', { state: 'overloaded' }),
      node('old', { role: 'degraded' }),
    ]);
    expect(ids(searchOrder(t))).toEqual(['s3', 's2']);
  });

  it('returns nothing when no node can serve', () => {
    expect(searchOrder(table([]))).toEqual([]);
    expect(searchOrder(table([node('m', { role: 'master', state: 'down' })]))).toEqual([]);
  });

  it('writes go to the master only, with the epoch', () => {
    const t = table([node('m', { role: 'master', state: 'overloaded' }), node('s1')]);
    expect(writeTarget(t)).toMatchObject({ node: { id: 'm' }, epoch: 4 });
    expect(writeTarget(table([node('m', { role: 'master', state: 'down' }), node('s1')]))).toBeNull();
    expect(writeTarget(table([node('s1')], null))).toBeNull();
  });
});

/** A deterministic stream of uniform numbers (a linear congruential generator). */
function seeded(seed = 1): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function options(over: Partial<ReadOptions> = {}, loads: Record<string, NodeLoad> = {}): ReadOptions {
  return {
    maxLagEntries: 100,
    maxBehindMs: 250,
    masterWeight: 100,
    load: (id) => loads[id] ?? { outstanding: 0, latencyMs: 2 },
    random: seeded(),
    ...over,
  };
}

function shares(t: RoutingTable, o: ReadOptions, n = 3000): Record<string, number> {
  const count: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const first = readOrder(t, o)[0]!.id;
    count[first] = (count[first] ?? 0) + 1;
  }
  return count;
}

/** In these tables `m` is the master. */
const rnode = (id: string, over: Partial<RoutedNode> = {}) =>
  node(id, { ...(id === 'm' ? { role: 'master' as const } : {}), ...over });
const rtable = (nodes: RoutedNode[]): RoutingTable => table(nodes, 'm');

describe('balanced read order', () => {
  it('keeps a standby whose position trails the master by more than maxBehindMs out of balancing and last', () => {
    // The standby reports no lag (it cannot see the log: Redis cut off, disk full), but the master
    // applied entries appended 2 s after the standby's position.
    const t = rtable([
      rnode('m', { appliedSeq: '1700000002000-0' }),
      rnode('cut', { appliedSeq: '1700000000000-0', lagEntries: 0 }),
      rnode('fresh', { appliedSeq: '1700000001900-0', lagEntries: 0 }),
    ]);
    expect(staleForReads(t, t.nodes[1]!, options())).toBe(true);
    expect(staleForReads(t, t.nodes[2]!, options())).toBe(false);
    const count = shares(t, options(), 600);
    expect(count.cut).toBeUndefined();
    for (let i = 0; i < 50; i++) expect(readOrder(t, options()).at(-1)!.id).toBe('cut');
    // Even a read that asks for the master's order puts it last, after the fresh standby.
    expect(ids(readOrder(t, options({ consistency: 'master' })))).toEqual(['m', 'fresh', 'cut']);
    // Ahead of or level with the master is never stale.
    const level = rtable([
      rnode('m', { appliedSeq: '5-0' }),
      rnode('s', { appliedSeq: '5-0', lagEntries: 0 }),
    ]);
    expect(staleForReads(level, level.nodes[1]!, options())).toBe(false);
  });

  it('sheds reads from an overloaded master to a standby behind it by time only, not to one far behind', () => {
    // Writes through an overloaded master are spaced by its latency: a standby one entry behind
    // when the probes ran looks 400 ms behind by the entries' append times.
    const behind = (ms: number, lagEntries: number | null = 1) =>
      rtable([
        rnode('m', { appliedSeq: '1700000002000-0', state: 'overloaded', overloaded: true }),
        rnode('s', { appliedSeq: `${1700000002000 - ms}-0`, lagEntries }),
      ]);
    for (const consistency of [undefined, 'master'] as const) {
      const o = options(consistency ? { consistency } : {});
      expect(ids(readOrder(behind(400), o))).toEqual(['s', 'm']);
      // Further behind than SHED_MAX_BEHIND_MS, or past the entry bound: the master stays first.
      expect(ids(readOrder(behind(SHED_MAX_BEHIND_MS + 500), o))).toEqual(['m', 's']);
      expect(ids(readOrder(behind(400, 500), o))).toEqual(['m', 's']);
      expect(ids(readOrder(behind(400, null), o))).toEqual(['m', 's']);
    }
    // A healthy master still goes before a standby behind by time.
    const healthy = rtable([
      rnode('m', { appliedSeq: '1700000002000-0' }),
      rnode('s', { appliedSeq: '1700000001600-0' }),
    ]);
    expect(ids(readOrder(healthy, options()))).toEqual(['m', 's']);
  });

  it('spreads reads evenly over the master and in-sync standbys', () => {
    const t = rtable([rnode('m'), rnode('a'), rnode('b')]);
    const count = shares(t, options());
    for (const id of ['m', 'a', 'b']) expect(count[id]! / 3000).toBeGreaterThan(0.28);
  });

  it('keeps every node in the order: the pick first, then the other candidates, then the fallback', () => {
    const t = rtable([
      rnode('m'),
      rnode('a'),
      rnode('lag', { lagEntries: 500 }),
      rnode('down', { state: 'down' }),
    ]);
    const order = readOrder(t, options());
    expect(new Set(ids(order.slice(0, 2)))).toEqual(new Set(['m', 'a']));
    expect(ids(order.slice(2))).toEqual(['lag']);
  });

  it('leaves out lagging, overloaded, suspect, unknown-lag and ejected standbys', () => {
    const t = rtable([
      rnode('m'),
      rnode('lag', { lagEntries: 101 }),
      rnode('busy', { state: 'overloaded', overloaded: true }),
      rnode('sus', { state: 'suspect' }),
      rnode('unknown', { lagEntries: null }),
      rnode('out'),
      rnode('ok', { lagEntries: 100 }),
    ]);
    expect(ids(balancedCandidates(t, options({ ejected: new Set(['out']) })))).toEqual(['m', 'ok']);
  });

  it('prefers the less loaded and the faster node of the two choices', () => {
    const t = rtable([rnode('m'), rnode('a')]);
    const busy = shares(
      t,
      options({}, { m: { outstanding: 3, latencyMs: 2 }, a: { outstanding: 0, latencyMs: 2 } }),
      200,
    );
    expect(busy).toEqual({ a: 200 });
    const slow = shares(
      t,
      options({}, { m: { outstanding: 0, latencyMs: 1000 }, a: { outstanding: 0, latencyMs: 3 } }),
      200,
    );
    expect(slow).toEqual({ a: 200 });
  });

  it('weights the master against the standbys; weight 0 keeps it out of balancing only', () => {
    const t = rtable([rnode('m'), rnode('a')]);
    const half = shares(t, options({ masterWeight: 50 }));
    expect(half.m! / 3000).toBeGreaterThan(0.28);
    expect(half.m! / 3000).toBeLessThan(0.39);
    const order = readOrder(t, options({ masterWeight: 0 }));
    expect(ids(order)).toEqual(['a', 'm']);
  });

  it('min_seq: only nodes at or past it serve first; with none, the master-first order', () => {
    const t = rtable([
      rnode('m', { appliedSeq: '20-0' }),
      rnode('a', { appliedSeq: '19-0' }),
      rnode('b', { appliedSeq: '21-0' }),
    ]);
    const count = shares(t, options({ minSeq: '20-0' }), 500);
    expect(Object.keys(count).sort()).toEqual(['b', 'm']);
    expect(ids(readOrder(t, options({ minSeq: '30-0' })))).toEqual(ids(searchOrder(t)));
  });

  it('min_seq the node checks: a write newer than the table leaves every in-sync node a candidate', () => {
    const t = rtable([
      rnode('m', { appliedSeq: '20-0' }),
      rnode('a', { appliedSeq: '19-0' }),
      rnode('b', { appliedSeq: '21-0' }),
      rnode('lag', { appliedSeq: '1-0', lagEntries: 500 }),
    ]);
    const checked = { minSeqCheckedByNode: true };
    // Past even the master's position in the table: nobody's is known, the nodes check.
    const newer = shares(t, options({ minSeq: '30-0', ...checked }), 500);
    expect(Object.keys(newer).sort()).toEqual(['a', 'b', 'm']);
    expect(freshEnough(t, t.nodes[1]!, options({ minSeq: '30-0', ...checked }))).toBe(true);
    // Lagging nodes stay out whatever the seq.
    expect(freshEnough(t, t.nodes[3]!, options({ minSeq: '30-0', ...checked }))).toBe(false);
    // The table shows the master at it and `a` short of it: `a` is known behind.
    expect(Object.keys(shares(t, options({ minSeq: '20-0', ...checked }), 500)).sort()).toEqual(['b', 'm']);
    // A node that cannot check (a document read) is asked only when the table shows it there.
    expect(freshEnough(t, t.nodes[1]!, options({ minSeq: '30-0' }))).toBe(false);
  });

  it("raises a standby's position to what its answers reported since the table was made", () => {
    const t = {
      ...rtable([rnode('m', { appliedSeq: '1000-0' }), rnode('a', { appliedSeq: '500-0' })]),
      generatedAt: 100,
    };
    expect(staleForReads(t, t.nodes[1]!, options())).toBe(true); // 500 ms behind by the probes
    const reports: Record<string, { seq: string; at: number }> = {
      m: { seq: '2000-0', at: 150 },
      a: { seq: '990-0', at: 150 },
    };
    const reported = (id: string, since: number) =>
      reports[id] && reports[id].at > since ? reports[id].seq : undefined;
    const seen = withReportedPositions(t, reported);
    expect(seen.nodes.map((n) => n.appliedSeq)).toEqual(['1000-0', '990-0']); // the master's stays
    expect(staleForReads(seen, seen.nodes[1]!, options())).toBe(false);
    // A report older than the table (a node since replaced) and a lower one change nothing.
    expect(withReportedPositions({ ...t, generatedAt: 200 }, reported)).toEqual({ ...t, generatedAt: 200 });
    expect(withReportedPositions(t, () => '400-0')).toBe(t);
  });

  it('consistency "master" is the master-first order', () => {
    const t = rtable([rnode('a'), rnode('m'), rnode('b', { lagEntries: 2 })]);
    expect(ids(readOrder(t, options({ consistency: 'master' })))).toEqual(['m', 'a', 'b']);
  });

  it('with no candidate (all busy) falls back to the master-first order', () => {
    const t = rtable([
      rnode('m', { state: 'overloaded', overloaded: true }),
      rnode('a', { state: 'suspect' }),
    ]);
    expect(ids(readOrder(t, options()))).toEqual(ids(searchOrder(t)));
  });
});
