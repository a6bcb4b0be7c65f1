import { describe, expect, it } from 'vitest';
import { searchOrder, writeTarget, type RoutedNode, type RoutingTable } from '../../edge/router.ts';

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
