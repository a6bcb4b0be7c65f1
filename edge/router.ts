/**
 * Request routing: which nodes a search tries, in order, and where a write goes.
 *
 * Pure; the Worker feeds it the routing table it got from the coordinator (cached ≤ 1 s).
 * Reads: the master first (it is by definition the freshest) unless it is overloaded, starting or
 * down; then standbys that are up, freshest first; then, as a last resort, overloaded nodes (slow
 * beats nothing) and suspect ones (one missed probe is often a blip). Down and starting nodes are
 * never tried: they cannot answer, and trying them costs the client its deadline.
 * Writes: the master only, stamped with the table's epoch, and only if it is not known down.
 */
import type { Role } from '../shared/schemas.ts';
import { compareSeq } from '../shared/stream-id.ts';
import type { NodeState } from './detector.ts';

export interface RoutedNode {
  id: string;
  url: string;
  priority: number;
  /** The coordinator's view: `master` for the one it elected, else what the node reports (standby / degraded). */
  role: Role;
  state: NodeState;
  /** Redis stream id of the last applied log entry, "0-0" when unknown. */
  appliedSeq: string;
  lagEntries: number | null;
  lagMs: number | null;
  overloaded: boolean;
}

export interface RoutingTable {
  epoch: number;
  master: string | null;
  nodes: RoutedNode[];
  /** Coordinator clock when the table was made. */
  generatedAt: number;
}

/** Freshest first: fewer lag entries, then higher applied position, then higher priority, then id (stable). */
export function byFreshness(a: RoutedNode, b: RoutedNode): number {
  const lagA = a.lagEntries ?? Number.MAX_SAFE_INTEGER;
  const lagB = b.lagEntries ?? Number.MAX_SAFE_INTEGER;
  if (lagA !== lagB) return lagA - lagB;
  const seq = compareSeq(b.appliedSeq, a.appliedSeq);
  if (seq !== 0) return seq;
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Ordered nodes to try for a search; empty means "no node can serve" (answer 503). */
export function searchOrder(table: RoutingTable): RoutedNode[] {
  const master = table.nodes.find((n) => n.id === table.master) ?? null;
  const others = table.nodes.filter((n) => n !== master && n.role !== 'degraded');
  const first: RoutedNode[] = [];
  const fallback: RoutedNode[] = [];
  if (master) {
    if (master.state === 'up' || master.state === 'suspect') first.push(master);
    else if (master.state === 'overloaded') fallback.push(master);
  }
  const upStandbys = others.filter((n) => n.state === 'up').sort(byFreshness);
  const lastResort = others
    .filter((n) => n.state === 'overloaded' || n.state === 'suspect')
    .sort(byFreshness);
  // Within the last resort, overloaded (answered its last probe) before suspect (missed it).
  lastResort.sort((a, b) => Number(a.state === 'suspect') - Number(b.state === 'suspect'));
  return [...first, ...upStandbys, ...fallback, ...lastResort];
}

export interface WriteTarget {
  node: RoutedNode;
  epoch: number;
}

/** The master and the epoch to stamp, or null when there is no master that might answer. */
export function writeTarget(table: RoutingTable): WriteTarget | null {
  const master = table.nodes.find((n) => n.id === table.master);
  if (!master || master.state === 'down' || master.state === 'starting') return null;
  return { node: master, epoch: table.epoch };
}
