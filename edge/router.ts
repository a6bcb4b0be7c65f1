/**
 * Request routing: which nodes a search tries, in order, and where a write goes.
 *
 * Pure; the Worker feeds it the routing table it got from the coordinator (cached ≤ 1 s).
 * Reads: the master first (it is by definition the freshest) unless it is overloaded, starting or
 * down; then standbys that are up, freshest first; then, as a last resort, overloaded nodes (slow
 * beats nothing) and suspect ones (one missed probe is often a blip). Down and starting nodes are
 * never tried: they cannot answer, and trying them costs the client its deadline.
 * Balanced reads (readOrder): a search goes first to one of the nodes that may serve it fresh
 * enough (up, not overloaded, within the lag bound, at or past the caller's min_seq), master
 * included, picked by power of two choices on latency and outstanding requests; the order
 * above follows as the fallback and hedge targets.
 * Writes: the master only, stamped with the table's epoch, and only if it is not known down.
 */
import type { Role } from '../shared/schemas.ts';
import { compareSeq, seqTimeMs } from '../shared/stream-id.ts';
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

/** What this isolate knows of a node's load (edge/read-stats.ts). */
export interface NodeLoad {
  outstanding: number;
  /** Recent latency (decayed EWMA), null when unknown. */
  latencyMs: number | null;
}

export interface ReadOptions {
  /** `master`: the order above, master first (read-your-writes without a min_seq). */
  consistency?: 'any' | 'master';
  /** Only nodes whose applied position is at least this serve first (the `seq` of a write answer). */
  minSeq?: string;
  /**
   * The node itself refuses a read short of `minSeq` (409 behind: a search carries min_seq). A
   * node the table cannot place against `minSeq` (a write newer than the table: past even the
   * master's position in it) may then be asked first or hedged to; without it only nodes the
   * table shows at `minSeq` may.
   */
  minSeqCheckedByNode?: boolean;
  maxLagEntries: number;
  /**
   * How far (by the append time in the stream ids) a standby's applied position may trail the
   * master's, as the last probes saw them. A node cut off from the log, or stalled by a full disk or
   * a compaction, cannot see its own lag; the master's position shows it.
   */
  maxBehindMs: number;
  /** The master's weight against a standby's 100. */
  masterWeight: number;
  load: (id: string) => NodeLoad;
  /** Nodes out of balanced routing for now (outlier ejection); they stay in the fallback. */
  ejected?: ReadonlySet<string>;
  random: () => number;
}

/**
 * A node is clearly slower than another only past twice its latency plus this margin: a few
 * milliseconds of noise (a cold connection, a GC pause) between healthy nodes must not send
 * every read to one of them, while a node 1 s slow is avoided at once.
 */
const LATENCY_SLACK_MS = 50;

/** Negative when `a` is clearly faster, positive when clearly slower, 0 when alike. */
function compareLatency(a: NodeLoad, b: NodeLoad): number {
  const la = a.latencyMs ?? 0;
  const lb = b.latencyMs ?? 0;
  if (la > 2 * lb + LATENCY_SLACK_MS) return 1;
  if (lb > 2 * la + LATENCY_SLACK_MS) return -1;
  return 0;
}

/** Least loaded first: clearly faster, then fewer requests in flight. */
function compareLoad(a: RoutedNode, b: RoutedNode, options: ReadOptions): number {
  const la = options.load(a.id);
  const lb = options.load(b.id);
  return compareLatency(la, lb) || la.outstanding - lb.outstanding;
}

function weight(n: RoutedNode, table: RoutingTable, options: ReadOptions): number {
  return n.id === table.master ? options.masterWeight : 100;
}

/**
 * Whether a standby's data is too old to be asked first (or as a hedge) while the master can
 * answer: more than `maxLagEntries` behind by its own report, or its applied position more than
 * `maxBehindMs` behind the master's. A search never returns a superseded document because a
 * lagging replica happened to be picked.
 */
export function staleForReads(
  table: RoutingTable,
  n: RoutedNode,
  options: Pick<ReadOptions, 'maxLagEntries' | 'maxBehindMs'>,
): boolean {
  if (n.id === table.master) return false;
  if (n.lagEntries === null || n.lagEntries > options.maxLagEntries) return true;
  const master = table.nodes.find((m) => m.id === table.master);
  if (!master || compareSeq(n.appliedSeq, master.appliedSeq) >= 0) return false;
  return seqTimeMs(master.appliedSeq) - seqTimeMs(n.appliedSeq) > options.maxBehindMs;
}

/**
 * The table with each standby's position raised to what its own answers reported since the
 * table was made (`reported`): the probes behind the table may be a second old, and under
 * steady writes that alone made an in-sync standby look behind the master, so reads and hedges
 * stayed on a slow master. Only reports newer than the table count: a node replaced by an
 * empty one must not keep the position of the one before.
 */
export function withReportedPositions(
  table: RoutingTable,
  reported: (id: string, since: number) => string | undefined,
): RoutingTable {
  let raised = false;
  const nodes = table.nodes.map((n) => {
    const seq = n.id === table.master ? undefined : reported(n.id, table.generatedAt);
    if (seq === undefined || compareSeq(seq, n.appliedSeq) <= 0) return n;
    raised = true;
    return { ...n, appliedSeq: seq };
  });
  return raised ? { ...table, nodes } : table;
}

/**
 * Whether a node's data may serve a read first, or as a hedge: not stale, and at `minSeq` if
 * asked, or (when the node checks min_seq itself) not known to be short of it. The table is
 * refreshed about once a second while writes land every few milliseconds: a standby it shows
 * behind the newest acknowledged write has usually applied it by the time the read arrives.
 */
export function freshEnough(
  table: RoutingTable,
  n: RoutedNode,
  options: Pick<ReadOptions, 'maxLagEntries' | 'maxBehindMs' | 'minSeq' | 'minSeqCheckedByNode'>,
): boolean {
  if (staleForReads(table, n, options)) return false;
  if (options.minSeq === undefined || compareSeq(n.appliedSeq, options.minSeq) >= 0) return true;
  if (!options.minSeqCheckedByNode) return false;
  const master = table.nodes.find((m) => m.id === table.master);
  return master !== undefined && compareSeq(options.minSeq, master.appliedSeq) > 0;
}

/** Nodes that may take a balanced read: fresh enough, healthy, not ejected. */
export function balancedCandidates(table: RoutingTable, options: ReadOptions): RoutedNode[] {
  return searchOrder(table).filter(
    (n) => n.state === 'up' && !n.overloaded && !options.ejected?.has(n.id) && freshEnough(table, n, options),
  );
}

/** Power of two choices: the less loaded of two random candidates (a tie goes by weight). */
function pick(table: RoutingTable, candidates: RoutedNode[], options: ReadOptions): RoutedNode {
  if (candidates.length === 1) return candidates[0]!;
  const i = Math.floor(options.random() * candidates.length);
  let j = Math.floor(options.random() * (candidates.length - 1));
  if (j >= i) j++;
  const a = candidates[i]!;
  const b = candidates[j]!;
  const order = compareLoad(a, b, options);
  if (order !== 0) return order < 0 ? a : b;
  const wa = weight(a, table, options);
  const wb = weight(b, table, options);
  if (wa + wb === 0) return options.random() < 0.5 ? a : b;
  return options.random() * (wa + wb) < wa ? a : b;
}

/**
 * How far behind the master (by its position's append time) a standby within the entry bound may
 * be and still be asked before an overloaded or suspect node. The time rule alone misjudges a
 * standby one entry behind when writes are sparse (an overloaded master's writes are spaced by its
 * latency): the gap between two entries is not how long it has been behind.
 */
export const SHED_MAX_BEHIND_MS = 2000;

/**
 * searchOrder with stale standbys moved back, whatever the consistency asked: a standby behind
 * by time only (within SHED_MAX_BEHIND_MS and the entry bound) after every up node that is fresh,
 * but before an overloaded or suspect one; a standby further behind last of all.
 */
function fallbackOrder(table: RoutingTable, options: ReadOptions): RoutedNode[] {
  const tier = (n: RoutedNode): number => {
    const healthy = n.state === 'up' || (n.id === table.master && n.state === 'suspect');
    if (!staleForReads(table, n, options)) return healthy ? 0 : 2;
    const near =
      n.lagEntries !== null &&
      n.lagEntries <= options.maxLagEntries &&
      !staleForReads(table, n, {
        ...options,
        maxBehindMs: Math.max(options.maxBehindMs, SHED_MAX_BEHIND_MS),
      });
    if (near) return healthy ? 1 : 3;
    return 4;
  };
  return searchOrder(table)
    .map((n, i) => ({ n, i, t: tier(n) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map(({ n }) => n);
}

/**
 * Ordered nodes to try for a read: the balanced pick, then the other candidates least loaded
 * first, then the rest of searchOrder. With no candidate (nobody has reached min_seq in the
 * table, or all are busy or lagging) it is searchOrder: the master first.
 */
export function readOrder(table: RoutingTable, options: ReadOptions): RoutedNode[] {
  const fallback = fallbackOrder(table, options);
  if (options.consistency === 'master') return fallback;
  const candidates = balancedCandidates(table, options).filter(
    (n) => n.id !== table.master || options.masterWeight > 0,
  );
  if (candidates.length === 0) return fallback;
  const first = pick(table, candidates, options);
  const rest = candidates.filter((n) => n !== first).sort((a, b) => compareLoad(a, b, options));
  const chosen = new Set([first, ...rest]);
  return [first, ...rest, ...fallback.filter((n) => !chosen.has(n))];
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
