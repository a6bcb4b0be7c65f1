/**
 * Which min_seq one attempt of a read carries to its node (edge/reads.ts): the caller's, or for
 * a standby the read's whole one, including this isolate's newest acknowledged write
 * (./written-seq.ts), so the node's own check keeps monotonic reads whatever the routing table
 * said of its position.
 */
import { SEQ_ZERO } from '../shared/stream-id.ts';
import type { ReadCall } from './reads.ts';
import type { ReadOptions, RoutedNode, RoutingTable } from './router.ts';

/**
 * What one attempt sends: a standby gets the read's whole min_seq (its own check keeps the
 * isolate's monotonic reads whatever the table said). The master gets the caller's alone: it is
 * the freshest by definition, and a position this isolate remembers from before a lost log must
 * not make every read wait and fail there.
 */
export function callFor(
  call: ReadCall,
  node: RoutedNode,
  table: RoutingTable,
  options: ReadOptions,
): ReadCall {
  if (!addsMinSeq(call, node, table, options)) return call;
  return { ...call, body: call.bodyWithMinSeq!(options.minSeq!) };
}

/** Whether `callFor` gives this node a min_seq the caller did not ask for (the isolate's own). */
export function addsMinSeq(
  call: ReadCall,
  node: RoutedNode,
  table: RoutingTable,
  options: ReadOptions,
): boolean {
  const { minSeq } = options;
  if (!call.bodyWithMinSeq || node.id === table.master || minSeq === undefined) return false;
  return minSeq !== SEQ_ZERO && minSeq !== call.minSeq;
}
