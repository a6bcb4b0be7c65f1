/**
 * Fake nodes first, then the edge with the registry seeded from NODES (the fresh-cluster path:
 * every node is known before the first probe round, so the election sees them all).
 *
 *   const c = await startFakeCluster([{ id: 'm', appliedSeq: '9-0' }], { PROBE_INTERVAL_MS: '100' });
 *   c.byId.m!.searchLatencyMs = 1000;
 *   await c.stop();
 */
import { expect } from 'vitest';
import { startFakeNode, type FakeNode } from './fake-node.ts';
import { startEdge, type EdgeHandle } from './miniflare.ts';

export interface FakeNodeSpec {
  id: string;
  appliedSeq: string;
  priority?: number;
}

export interface FakeCluster {
  edge: EdgeHandle;
  byId: Record<string, FakeNode>;
  nodes: FakeNode[];
  stop(): Promise<void>;
}

export async function startFakeCluster(
  specs: FakeNodeSpec[],
  vars: Record<string, string>,
  /** Called with each node as it starts, so that a test's cleanup knows it even if a later step fails. */
  started: (node: FakeNode) => void = () => {},
): Promise<FakeCluster> {
  const clusterSecret = `secret-${crypto.randomUUID()}`;
  const byId: Record<string, FakeNode> = {};
  const nodes: FakeNode[] = [];
  for (const spec of specs) {
    const node = await startFakeNode({
      id: spec.id,
      secret: clusterSecret,
      state: { appliedSeq: spec.appliedSeq },
    });
    nodes.push(node);
    started(node);
    byId[spec.id] = node;
  }
  const seed = specs.map((spec) => ({
    id: spec.id,
    url: byId[spec.id]!.url,
    priority: spec.priority ?? 100,
  }));
  const edge = await startEdge({ clusterSecret, vars: { ...vars, NODES: JSON.stringify(seed) } });
  const cluster: FakeCluster = {
    edge,
    byId,
    nodes,
    stop: async () => {
      await edge.stop();
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
  // Nothing arms the probe loop of a seeded cluster but first use (or the cron): use it.
  expect((await edge.fetch('/health')).status).toBe(503);
  return cluster;
}
