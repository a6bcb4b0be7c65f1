/**
 * Calls from the Worker to the search nodes on the request path, with the retry rules of
 * ARCHITECTURE.md section 6:
 * - reads (search, GET document, job) are raced across nodes by ./reads.ts (hedging, balancing);
 *   this file makes one attempt of them;
 * - writes go to the master only, signed and stamped with the epoch; on a 409 (stale epoch) or a
 *   failure the routing table is refreshed and the write is retried once (safe: every document
 *   carries a client-given id, so a repeat is an idempotent upsert); a 504 `wait_timeout` is no
 *   failure and is never re-sent: the write was accepted, the client gets 202 with the job id
 *   (./write-accepted.ts);
 * - every upstream failure is reported to the coordinator through waitUntil, after the answer,
 *   at most one report per node per REPORT_COALESCE_MS in this isolate (a burst of failed
 *   requests on one node says no more than the first of them).
 */
import { HEADERS, WRITE_WAIT_MS } from '../shared/constants.ts';
import { signRequest } from '../shared/signing.ts';
import { failureOutcome } from './coordinator/node-client.ts';
import { coordinator } from './env.ts';
import { EdgeError, type AppContext } from './http.ts';
import { log } from './log.ts';
import { getRoutingTable, invalidateRoutingTable } from './routing-cache.ts';
import { writeTarget, type RoutedNode } from './router.ts';
import { acceptedWriteAnswer } from './write-accepted.ts';
import { noteWritten } from './written-seq.ts';

/** Whole-request budget for a read, and per attempt: two slow nodes and a third try still fit. */
export const READ_DEADLINE_MS = 4000;
export const ATTEMPT_TIMEOUT_MS = 1500;
/**
 * Writes may wait for replication (wait: "replicated"): they get the node's own wait deadline
 * plus a margin, so the node's 504 `wait_timeout` (accepted, not at the level yet) arrives
 * before the edge gives up on the call and mistakes a slow wait for a dead master.
 */
export const WRITE_TIMEOUT_MS = WRITE_WAIT_MS + 5000;

/** One report per node per this many ms from an isolate: enough for the detector, not a flood. */
export const REPORT_COALESCE_MS = 250;

export interface UpstreamCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path on the node, already URL-encoded, with an optional query; the pathname alone is signed (shared/signing.ts). */
  path: string;
  body?: string;
  signed: boolean;
  /** Writes only: how many operations the body carries (the `accepted` of a 202 the edge answers). */
  operations?: number;
  /** Extra request headers for this attempt (a read's min_seq wait: ./reads.ts). */
  headers?: Record<string, string>;
}

export type Attempt =
  | { kind: 'answer'; response: Response }
  | { kind: 'failure'; reason: string; status?: number; retryAfter?: string; behind?: boolean }
  /** Aborted by the caller (a faster attempt won the race): nobody's failure. */
  | { kind: 'cancelled' };

/**
 * One call to one node. `signal` lets a read race abort the loser. A read answered 409 `behind`
 * (the node has not applied the read's min_seq: worker-node/routes/search.ts) is a failure that
 * is not the node's fault: not reported, the next node is tried.
 */
export async function attempt(
  c: AppContext,
  node: RoutedNode,
  call: UpstreamCall,
  epoch: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Attempt> {
  const requestId = c.get('requestId');
  const body = call.body ?? '';
  const headers: Record<string, string> = { ...call.headers, [HEADERS.requestId]: requestId };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  // A signed call is bound to this node and this epoch (x-gte-node, x-gte-epoch inside the signature).
  if (call.signed)
    Object.assign(
      headers,
      await signRequest(c.env.CLUSTER_SECRET ?? '', call.method, call.path.split('?')[0]!, body, {
        node: node.id,
        epoch,
      }),
    );
  else headers[HEADERS.epoch] = String(epoch);
  try {
    const response = await fetch(`${node.url}${call.path}`, {
      method: call.method,
      headers,
      ...(call.body !== undefined ? { body } : {}),
      signal: signal
        ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal])
        : AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 409 && call.operations === undefined) {
      const body = (await response
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: string } } | null;
      if (body?.error?.code === 'behind') {
        await response.body?.cancel();
        return { kind: 'failure', reason: 'behind min_seq', status: 409, behind: true };
      }
    }
    if (response.status === 504 && call.operations !== undefined) {
      const answer = acceptedWriteAnswer(await response.json().catch(() => null), call.operations);
      if (answer) return { kind: 'answer', response: answer };
      report(c, node, 'http_error', 'HTTP 504', 504);
      return { kind: 'failure', reason: 'HTTP 504', status: 504 };
    }
    // 5xx, 408 and 429 are the node's trouble, not the caller's: try elsewhere. A 429 is
    // overload, not failure: not reported (./reads.ts retries it at most once elsewhere).
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      await response.body?.cancel();
      if (response.status >= 500) report(c, node, 'http_error', `HTTP ${response.status}`, response.status);
      const retryAfter = response.headers.get('retry-after') ?? undefined;
      return {
        kind: 'failure',
        reason: `HTTP ${response.status}`,
        status: response.status,
        ...(retryAfter ? { retryAfter } : {}),
      };
    }
    return { kind: 'answer', response };
  } catch (error) {
    if (signal?.aborted) return { kind: 'cancelled' };
    const outcome = failureOutcome(error);
    const reason = outcome === 'timeout' ? `timeout after ${timeoutMs} ms` : 'connect error';
    report(c, node, outcome, reason);
    return { kind: 'failure', reason };
  }
}

const lastReport = new Map<string, number>();

/** Tells the coordinator after the answer is sent; never delays or fails the request. */
function report(
  c: AppContext,
  node: RoutedNode,
  outcome: 'http_error' | 'timeout' | 'connect_error',
  message: string,
  status?: number,
): void {
  const requestId = c.get('requestId');
  log('warn', 'worker', 'upstream.failed', { node: node.id, outcome, message, request_id: requestId });
  const now = Date.now();
  if (now - (lastReport.get(node.id) ?? Number.NEGATIVE_INFINITY) < REPORT_COALESCE_MS) return;
  lastReport.set(node.id, now);
  // With each report sent (so at most every REPORT_COALESCE_MS per node, not once per failed
  // request) the next request asks the coordinator for a fresh table: it may know more by then.
  // The table stays the fallback if that call fails (./table-cache.ts); the read under way
  // keeps its own copy and goes on to the next node.
  invalidateRoutingTable();
  const send = coordinator(c.env)
    .reportFailure(node.id, { outcome, message, requestId, ...(status !== undefined ? { status } : {}) })
    .catch((error: unknown) =>
      log('error', 'worker', 'upstream.report_failed', { error: String(error), request_id: requestId }),
    );
  try {
    c.executionCtx.waitUntil(send);
  } catch {
    // No execution context (unit tests through app.request): the promise still runs.
  }
}

/** Copies the node's answer, adding the routing headers (and `extra`: hedged, stale routing). */
export function relay(
  response: Response,
  node: RoutedNode,
  epoch: number,
  attempts: number,
  extra: Record<string, string> = {},
): Response {
  const headers = new Headers(extra);
  headers.set('content-type', response.headers.get('content-type') ?? 'application/json');
  headers.set(HEADERS.servedBy, node.id);
  headers.set(HEADERS.epoch, String(epoch));
  headers.set(HEADERS.attempts, String(attempts));
  const applied = response.headers.get(HEADERS.appliedSeq);
  if (applied) headers.set(HEADERS.appliedSeq, applied);
  return new Response(response.body, { status: response.status, headers });
}

/** A write: the master only, stamped with the epoch; one retry after refreshing the routing table. */
export async function forwardWrite(c: AppContext, call: UpstreamCall): Promise<Response> {
  const failures: string[] = [];
  for (let round = 0; round < 2; round++) {
    const table = await getRoutingTable(c.env, { fresh: round > 0 });
    const target = writeTarget(table);
    if (!target) {
      failures.push(`no master (epoch ${table.epoch})`);
      continue;
    }
    const result = await attempt(c, target.node, call, target.epoch, WRITE_TIMEOUT_MS);
    if (result.kind === 'answer') {
      if (result.response.status === 409 && round === 0) {
        // The node is on another epoch: a failover happened since this isolate cached the table.
        await result.response.body?.cancel();
        failures.push(`${target.node.id}: HTTP 409 (epoch ${target.epoch} is stale)`);
        invalidateRoutingTable();
        continue;
      }
      if (result.response.status === 200) {
        // An acknowledged write: later reads through this isolate must see it (written-seq.ts).
        const text = await result.response.text();
        try {
          noteWritten((JSON.parse(text) as { seq?: unknown }).seq);
        } catch {
          // not JSON: nothing to note
        }
        const copy = new Response(text, { status: 200, headers: result.response.headers });
        return relay(copy, target.node, target.epoch, round + 1);
      }
      return relay(result.response, target.node, target.epoch, round + 1);
    }
    failures.push(`${target.node.id}: ${result.kind === 'failure' ? result.reason : 'cancelled'}`);
    invalidateRoutingTable();
  }
  throw new EdgeError(
    503,
    'no_master_available',
    `no master could take the write (${failures.join('; ')}); a failover may be in progress, retry shortly`,
    undefined,
    {
      'retry-after': '2',
    },
  );
}
