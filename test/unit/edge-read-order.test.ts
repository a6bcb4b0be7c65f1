import { describe, expect, it } from 'vitest';
import {
  balancedCandidates,
  readOrder,
  searchOrder,
  type NodeLoad,
  type ReadOptions,
  type RoutedNode,
  type RoutingTable,
} from '../../edge/router.ts';

function node(id: string, over: Partial<RoutedNode> = {}): RoutedNode {
  return {
    id,
    url: `http://${id}`,
    priority: 100,
    role: id === 'm' ? 'master' : 'standby',
    state: 'up',
    appliedSeq: '10-0',
    lagEntries: 0,
    lagMs: 0,
    overloaded: false,
    ...over,
  };
}
const table = (nodes: RoutedNode[]): RoutingTable => ({ epoch: 3, master: 'm', nodes, generatedAt: 0 });
const ids = (nodes: RoutedNode[]) => nodes.map((n) => n.id);

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

describe('balanced read order', () => {
  it('spreads reads evenly over the master and in-sync standbys', () => {
    const t = table([node('m'), node('a'), node('b')]);
    const count = shares(t, options());
    for (const id of ['m', 'a', 'b']) expect(count[id]! / 3000).toBeGreaterThan(0.28);
  });

  it('keeps every node in the order: the pick first, then the other candidates, then the fallback', () => {
    const t = table([
      node('m'),
      node('a'),
      node('lag', { lagEntries: 500 }),
      node('down', { state: 'down' }),
    ]);
    const order = readOrder(t, options());
    expect(new Set(ids(order.slice(0, 2)))).toEqual(new Set(['m', 'a']));
    expect(ids(order.slice(2))).toEqual(['lag']);
  });

  it('leaves out lagging, overloaded, suspect, unknown-lag and ejected standbys', () => {
    const t = table([
      node('m'),
      node('lag', { lagEntries: 101 }),
      node('busy', { state: 'overloaded', overloaded: true }),
      node('sus', { state: 'suspect' }),
      node('unknown', { lagEntries: null }),
      node('out'),
      node('ok', { lagEntries: 100 }),
    ]);
    expect(ids(balancedCandidates(t, options({ ejected: new Set(['out']) })))).toEqual(['m', 'ok']);
  });

  it('prefers the less loaded and the faster node of the two choices', () => {
    const t = table([node('m'), node('a')]);
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
    const t = table([node('m'), node('a')]);
    const half = shares(t, options({ masterWeight: 50 }));
    expect(half.m! / 3000).toBeGreaterThan(0.28);
    expect(half.m! / 3000).toBeLessThan(0.39);
    const order = readOrder(t, options({ masterWeight: 0 }));
    expect(ids(order)).toEqual(['a', 'm']);
  });

  it('min_seq: only nodes at or past it serve first; with none, the master-first order', () => {
    const t = table([
      node('m', { appliedSeq: '20-0' }),
      node('a', { appliedSeq: '19-0' }),
      node('b', { appliedSeq: '21-0' }),
    ]);
    const count = shares(t, options({ minSeq: '20-0' }), 500);
    expect(Object.keys(count).sort()).toEqual(['b', 'm']);
    expect(ids(readOrder(t, options({ minSeq: '30-0' })))).toEqual(ids(searchOrder(t)));
  });

  it('consistency "master" is the master-first order', () => {
    const t = table([node('a'), node('m'), node('b', { lagEntries: 2 })]);
    expect(ids(readOrder(t, options({ consistency: 'master' })))).toEqual(['m', 'a', 'b']);
  });

  it('with no candidate (all busy) falls back to the master-first order', () => {
    const t = table([node('m', { state: 'overloaded', overloaded: true }), node('a', { state: 'suspect' })]);
    expect(ids(readOrder(t, options()))).toEqual(ids(searchOrder(t)));
  });
});
