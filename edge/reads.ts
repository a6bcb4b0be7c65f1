/**
 * Reads on the request path (search, GET document, job): which nodes, in what order, raced how.
 *
 * - Order: a search is balanced over every in-sync node (router.ts readOrder, with this isolate's
 *   load view from ./read-stats.ts); `consistency: "master"`, documents and jobs keep the
 *   master-first order (router.ts searchOrder).
 * - Hedging (./hedge.ts): when the first attempt has not answered within the hedge delay, the
 *   same read goes to the next node while the budget allows (refused, it asks the budget again
 *   every HEDGE_RETRY_MS); the first good answer wins and the other attempt is aborted. At most
 *   one hedge per read.
 * - Failures: a connect error, timeout or 5xx moves on to the next node within READ_DEADLINE_MS;
 *   a 429 is retried on one other node at most, then the client gets 429 with Retry-After;
 *   a 409 `behind` (node short of min_seq) moves on without blaming the node.
 * - Freshness: a standby gets the read's min_seq, this isolate's newest acknowledged write
 *   included (./read-seq.ts), and checks it itself; one short of only the isolate's position is
 *   asked again after the other nodes, allowed to wait up to MIN_SEQ_WAIT_MS for its
 *   applier. It is never asked without the position: an answer older than a write this isolate
 *   already acknowledged would be a superseded document. Short everywhere: 409 `behind`.
 * - Outliers (./outliers.ts): a node with repeated failed reads, that keeps losing hedge races,
 *   or far slower than its peers, leaves balanced routing for a while (it stays a fallback); the
 *   coordinator is not involved.
 */
import { HEADERS, MIN_SEQ_WAIT_MS } from '../shared/constants.ts';
import { readReadPathConfig, type ReadPathConfig } from './config.ts';
import { HedgePolicy, type ReadKind } from './hedge.ts';
import { EdgeError, type AppContext } from './http.ts';
import { log } from './log.ts';
import { OutlierDetector } from './outliers.ts';
import { appliedSince, attemptFinished, attemptStarted, nodeLoad, noteApplied } from './read-stats.ts';
import { getRouting } from './routing-cache.ts';
import {
  freshEnough,
  type ReadOptions,
  readOrder,
  type RoutedNode,
  type RoutingTable,
  searchOrder,
  withReportedPositions,
} from './router.ts';
import { addsMinSeq, callFor } from './read-seq.ts';
import { laterSeq, writtenSeq } from './written-seq.ts';
import {
  ATTEMPT_TIMEOUT_MS,
  attempt,
  READ_DEADLINE_MS,
  relay,
  type Attempt,
  type UpstreamCall,
} from './upstream.ts';

export interface ReadCall extends UpstreamCall {
  kind: ReadKind;
  minSeq?: string;
  consistency?: 'any' | 'master';
  /** A read whose work grows with its body (a batch of embeddings) gets longer than a search. */
  budget?: { attemptMs: number; deadlineMs: number };
  /**
   * The body with `min_seq` set (a search: the node then refuses to serve short of it), so that
   * a standby the routing table cannot yet show at this isolate's newest acknowledged write may
   * still serve, checked by the node itself (router.ts freshEnough).
   */
  bodyWithMinSeq?: (minSeq: string) => string;
}

/** How often a read refused a hedge by the budget asks again while its first attempt runs. */
export const HEDGE_RETRY_MS = 25;

let policy: { key: string; policy: HedgePolicy } | null = null;
/** This isolate's outlier view: it outlives requests, like the hedge policy and ./read-stats.ts. */
const outliers = new OutlierDetector();

function noteOutcome(node: RoutedNode, result: Attempt, all: string[]): void {
  if (result.kind === 'answer') outliers.onSuccess(node.id);
  else if (result.kind === 'failure' && !result.behind && result.status !== 429) {
    if (outliers.onError(node.id, all, Date.now()))
      log('warn', 'worker', 'read.node_ejected', { node: node.id, reason: 'consecutive_errors' });
  }
}

/** After a hedge won: the attempts started before it were still at work (they are aborted). */
function noteHedgeRace(winner: Running, running: ReadonlySet<Running>, all: string[]): void {
  const now = Date.now();
  const losers = [...running].filter((r) => r.started < winner.started);
  if (losers.length === 0) return;
  if (outliers.onHedgeWon(winner.node.id, now))
    log('info', 'worker', 'read.node_reinstated', { node: winner.node.id, beat: losers[0]!.node.id });
  for (const loser of losers)
    if (outliers.onHedgeLost(loser.node.id, all, now))
      log('warn', 'worker', 'read.node_ejected', { node: loser.node.id, reason: 'lost_hedges' });
}

function checkLatencies(all: string[]): void {
  const latencies = new Map(all.map((id) => [id, nodeLoad(id).latencyMs] as const));
  for (const id of outliers.checkLatencies(latencies, Date.now()))
    log('warn', 'worker', 'read.node_ejected', { node: id, reason: 'slow' });
}

/** One policy per isolate (its latency windows and budget outlive requests), rebuilt if the vars change. */
export function hedgePolicy(config: ReadPathConfig): HedgePolicy {
  const key = `${config.hedgeFloorMs}/${config.hedgeCapMs}/${config.hedgeBudgetPercent}`;
  if (policy?.key !== key) {
    const hedge = {
      floorMs: config.hedgeFloorMs,
      capMs: config.hedgeCapMs,
      budgetPercent: config.hedgeBudgetPercent,
      burst: 10,
    };
    policy = { key, policy: new HedgePolicy(hedge) };
  }
  return policy.policy;
}

function readOptions(call: ReadCall, config: ReadPathConfig): ReadOptions {
  return {
    ...(call.consistency ? { consistency: call.consistency } : {}),
    // At least the newest write this isolate acknowledged (written-seq.ts), so no replica serves
    // a version older than a write already reported done; nodes known to lack it go last.
    // Embeddings read no data: any ready node will do.
    ...(call.kind === 'embed' ? {} : { minSeq: laterSeq(call.minSeq, writtenSeq()) }),
    minSeqCheckedByNode: call.bodyWithMinSeq !== undefined,
    maxLagEntries: config.readMaxLagEntries,
    maxBehindMs: config.readMaxBehindMs,
    masterWeight: config.readMasterWeight,
    load: (id) => nodeLoad(id),
    ejected: outliers.ejected(Date.now()),
    random: Math.random,
  };
}

function order(call: ReadCall, table: RoutingTable, options: ReadOptions) {
  // Embeddings need no fresh data, only a ready node: balanced like a search.
  if (call.kind !== 'search' && call.kind !== 'embed') return searchOrder(table);
  return readOrder(table, options);
}

interface Running {
  node: RoutedNode;
  controller: AbortController;
  started: number;
  done: Promise<{ run: Running; result: Attempt }>;
}

/** A standby's wait for its applier, leaving the attempt room to search after it. */
function standbyWaitMs(attemptTimeoutMs: number): number {
  return Math.max(0, Math.min(MIN_SEQ_WAIT_MS, attemptTimeoutMs - 500));
}

function noNode(message: string, attempts: number): EdgeError {
  return new EdgeError(503, 'no_node_available', message, undefined, {
    [HEADERS.attempts]: String(attempts),
    'retry-after': '2',
  });
}

export async function forwardRead(c: AppContext, call: ReadCall): Promise<Response> {
  const config = readReadPathConfig(c.env as unknown as Record<string, unknown>);
  const view = await getRouting(c.env);
  const table = withReportedPositions(view.table, appliedSince);
  const options = readOptions(call, config);
  const queue = order(call, table, options);
  if (queue.length === 0) {
    throw noNode(
      `no search node can serve: ${table.nodes.length} registered, none up (see GET /api/v1/status)`,
      0,
    );
  }
  const all = table.nodes.map((n) => n.id);
  const hedge = hedgePolicy(config);
  hedge.onRead();
  const extra: Record<string, string> = {};
  if (view.staleMs !== null) extra[HEADERS.routing] = `stale; age=${view.staleMs}`;
  const deadlineMs = call.budget?.deadlineMs ?? READ_DEADLINE_MS;
  const deadline = Date.now() + deadlineMs;
  const failures: string[] = [];
  const running = new Set<Running>();
  const secondChance = new Set<string>();
  /**
   * Standbys short of the isolate's own min_seq (not the caller's): asked again after the others
   * (by then they have usually applied it), this time allowed to wait for it (`mayWait`).
   */
  const behindOnce = new Set<string>();
  const mayWait = new Set<string>();
  let next = 0;
  let attempts = 0;
  let hedged = false;
  /** Set once the budget refused this read a hedge: it asks again every HEDGE_RETRY_MS. */
  let refusedAt: number | null = null;
  let overloads = 0;
  let retryAfter: string | undefined;
  let behind = false;
  let notFound: { response: Response; node: RoutedNode } | null = null;

  const launch = (): boolean => {
    while (next < queue.length) {
      const remaining = deadline - Date.now();
      if (remaining < 50) return false;
      const node = queue[next++]!;
      if ([...running].some((r) => r.node.id === node.id)) continue;
      attempts++;
      const controller = new AbortController();
      const started = Date.now();
      attemptStarted(node.id);
      const run = { node, controller, started } as Running;
      const timeout = Math.min(call.budget?.attemptMs ?? ATTEMPT_TIMEOUT_MS, remaining);
      const checked = callFor(call, node, table, options);
      const sent = mayWait.has(node.id)
        ? { ...checked, headers: { [HEADERS.minSeqWait]: String(standbyWaitMs(timeout)) } }
        : checked;
      run.done = attempt(c, node, sent, table.epoch, timeout, controller.signal).then((result) => {
        // A refused connection says nothing of latency; a cancelled loser was at least this slow.
        const latency =
          result.kind === 'failure' && result.reason === 'connect error' ? null : Date.now() - started;
        attemptFinished(node.id, latency);
        if (result.kind === 'answer') noteApplied(node.id, result.response.headers.get(HEADERS.appliedSeq));
        noteOutcome(node, result, all);
        return { run, result };
      });
      running.add(run);
      return true;
    }
    return false;
  };

  launch();
  try {
    while (running.size > 0) {
      const oldest = Math.min(...[...running].map((r) => r.started));
      // A hedge goes only to a node whose data is as fresh as a first choice would need to be.
      const target = queue[next];
      const canHedge =
        !hedged &&
        running.size === 1 &&
        target !== undefined &&
        !mayWait.has(target.id) &&
        freshEnough(table, target, options);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waits: Promise<{ run: Running; result: Attempt } | null>[] = [...running].map((r) => r.done);
      if (canHedge) {
        // A refusal of an earlier attempt's hedge (that attempt has failed since) does not make
        // this one's hedge due before its own delay.
        const due = Math.max(oldest + hedge.delayMs(call.kind), (refusedAt ?? -Infinity) + HEDGE_RETRY_MS);
        const wait = Math.max(0, due - Date.now());
        waits.push(new Promise((resolve) => (timer = setTimeout(() => resolve(null), wait))));
      }
      const first = await Promise.race(waits);
      if (timer !== undefined) clearTimeout(timer);
      if (first === null) {
        // The moment to hedge came. Refused by the budget, the read asks again a little later
        // (other reads earn tokens meanwhile): a frozen node's reads must not all wait out the
        // attempt timeout because the bucket was empty at the moment their delay ran out.
        if (hedge.allowHedge(refusedAt !== null)) {
          hedged = true;
          launch();
          extra[HEADERS.hedged] = '1';
        } else refusedAt = Date.now();
        continue;
      }
      running.delete(first.run);
      const { result, run } = first;
      if (result.kind === 'answer') {
        // A 404 from one node while another is still at it may only mean "not applied here yet"
        // (a standby behind the master): the other attempt's answer is awaited first.
        if (result.response.status === 404 && running.size > 0 && !notFound) {
          notFound = { response: result.response, node: run.node };
          continue;
        }
        if (notFound && result.response.status !== 404) await notFound.response.body?.cancel();
        else if (notFound) {
          await result.response.body?.cancel();
          return relay(notFound.response, notFound.node, table.epoch, attempts, extra);
        }
        hedge.recordGood(call.kind, Date.now() - run.started);
        noteHedgeRace(run, running, all);
        checkLatencies(all);
        return relay(result.response, run.node, table.epoch, attempts, extra);
      }
      if (result.kind === 'cancelled') continue;
      failures.push(`${run.node.id}: ${result.reason}`);
      const id = run.node.id;
      if (result.behind && !behindOnce.has(id) && addsMinSeq(call, run.node, table, options)) {
        // Only this isolate's memory of a write asked for that position, not the caller: the
        // standby is asked again after every other node (never as a hedge), allowed to wait.
        behindOnce.add(id);
        mayWait.add(id);
        queue.push(run.node);
      } else if (result.behind) behind = true;
      if (result.status === 429) {
        overloads++;
        retryAfter = result.retryAfter ?? retryAfter;
        // Overload is answered, not spread: one other node may try, then the client backs off.
        if (overloads >= 2) break;
      }
      // A connect error can be a pooled keep-alive connection the node closed as we reused it (a
      // live node): such a node gets one more try after the others. Reads are idempotent, and a
      // dead node fails again at once, so this costs milliseconds.
      if (result.reason === 'connect error' && !secondChance.has(run.node.id)) {
        secondChance.add(run.node.id);
        queue.push(run.node);
      }
      if (running.size === 0) launch();
    }
  } finally {
    for (const r of running) r.controller.abort();
  }
  if (notFound) return relay(notFound.response, notFound.node, table.epoch, attempts, extra);
  if (overloads > 0 && (overloads >= 2 || failures.length === overloads)) {
    throw new EdgeError(
      429,
      'overloaded',
      `the search nodes are overloaded (${failures.join('; ')}); retry later`,
      undefined,
      {
        [HEADERS.attempts]: String(attempts),
        'retry-after': retryAfter ?? '1',
      },
    );
  }
  if (behind) {
    throw new EdgeError(
      409,
      'behind',
      `no node has applied min_seq ${call.minSeq ?? options.minSeq} yet (${failures.join('; ')}); retry shortly`,
      undefined,
      {
        [HEADERS.attempts]: String(attempts),
        'retry-after': '1',
      },
    );
  }
  throw noNode(
    `every node tried failed within ${deadlineMs} ms (${failures.join('; ')}); retry shortly`,
    attempts,
  );
}
