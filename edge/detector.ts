/**
 * Failure detector: a node's recent signals in, its state out.
 *
 * Pure (plain data in, plain data out) so every rule below is unit-tested without workerd.
 * Rules (ARCHITECTURE.md section 6):
 * - A failure is a connect error, a timeout, a 5xx (503 included) or an unreadable /health.
 *   A master is failed over only after `failThreshold` CONSECUTIVE probe failures: one success in
 *   between starts the count again.
 * - Load never counts as failure. A node that says `load.overloaded`, or whose GPU stayed above
 *   `overloadGpuUtil` for `overloadWindowMs`, is `overloaded`: it still answers, reads shed to
 *   standbys, and it is never failed over for it.
 * - Decision on "503 + valid NodeHealth with ready:false" (a node that is starting, or loading a
 *   snapshot): it is `not_ready`. The node is alive, so its state is `starting`, which is not
 *   routable and not electable; but it cannot serve, so for a MASTER it counts toward the
 *   failover threshold like any other 503. A master that restarts and needs longer than
 *   threshold x interval to be ready is replaced by a caught-up standby, which is what clients want.
 * - A master that answers but reports its write path broken (`write_path` not "ok": Redis
 *   unreachable from it, embedder down, disk full) for `failThreshold` consecutive probes is failed
 *   over too, but only while some electable standby's write path works, counting only the
 *   master's probes taken since that standby's has been working: when Redis is down for everyone,
 *   moving the role would only churn epochs, and when it comes back the node that reconnects first
 *   must not take the role from one that reconnects a moment later. A node whose write path is broken is never
 *   electable. Nodes too old to report `write_path` count as working.
 * - Failures reported from the request path (source `request`) make a node `suspect` at once and
 *   trigger an immediate probe, but only probes count toward the threshold: a burst of failing
 *   requests during one network blip must not depose a master by itself.
 */
import type { NodeHealth } from '../shared/schemas.ts';
import type { NodeState } from '../shared/edge-api.ts';
import type { EdgeConfig } from './config.ts';

export type { NodeState };

export type ProbeOutcome = 'ok' | 'not_ready' | 'connect_error' | 'timeout' | 'http_error';

export interface Signal {
  at: number;
  outcome: ProbeOutcome;
  source: 'probe' | 'request';
  /** HTTP status when there was an answer. */
  status?: number;
  latencyMs?: number;
  /** The parsed /health body when the node answered with one (ok and not_ready). */
  health?: NodeHealth;
  message?: string;
}

export interface Assessment {
  state: NodeState;
  /** Consecutive probe failures since the last probe success (request reports excluded). */
  consecutiveFailures: number;
  overloaded: boolean;
  /** The newest /health body seen, even if older than the last failure: it goes into reports. */
  lastHealth: NodeHealth | null;
  lastOkAt: number | null;
  lastSignal: Signal | null;
}

/** How many probe signals per node are kept: enough for the overload window at the shortest interval. */
export const HISTORY_LIMIT = 64;
/**
 * How many request-path reports per node are kept besides the probes. The newest one is all the
 * state needs (suspect at once); keeping every report would let a busy edge's reports about a
 * hung node (one per failed request) push its probe results out of the window, and a master whose
 * probes time out would then never reach the failover threshold.
 */
export const REQUEST_HISTORY_LIMIT = 8;

export function isFailure(outcome: ProbeOutcome): boolean {
  return outcome !== 'ok';
}

/**
 * Appends a signal and keeps the newest `limit` probe signals and the newest REQUEST_HISTORY_LIMIT
 * request reports (never more than `limit` of those), in order. Returns a new array.
 */
export function recordSignal(
  history: readonly Signal[],
  signal: Signal,
  limit: number = HISTORY_LIMIT,
): Signal[] {
  const next = [...history, signal];
  const requestLimit = Math.min(REQUEST_HISTORY_LIMIT, limit);
  let probes = 0;
  let requests = 0;
  const kept: Signal[] = [];
  for (let i = next.length - 1; i >= 0; i--) {
    const s = next[i]!;
    if (s.source === 'request' ? requests++ < requestLimit : probes++ < limit) kept.push(s);
  }
  return kept.reverse();
}

/** Probe failures since the newest probe success. */
export function consecutiveFailures(history: readonly Signal[]): number {
  let count = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i]!;
    if (s.source !== 'probe') continue;
    if (!isFailure(s.outcome)) break;
    count++;
  }
  return count;
}

/**
 * True when the GPU stayed over the limit for the whole window: the newest successful probes,
 * walking back, all read over the limit, and that run covers at least `overloadWindowMs`.
 * A node without a GPU (gpu: null) is never GPU-overloaded.
 */
export function gpuOverloaded(
  history: readonly Signal[],
  config: Pick<EdgeConfig, 'overloadGpuUtil' | 'overloadWindowMs'>,
): boolean {
  let newest: number | null = null;
  let runStart: number | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i]!;
    if (s.outcome !== 'ok' || !s.health) continue;
    const util = s.health.gpu?.util;
    if (util === undefined || util <= config.overloadGpuUtil) break;
    newest ??= s.at;
    runStart = s.at;
  }
  if (newest === null || runStart === null) return false;
  return newest - runStart >= config.overloadWindowMs;
}

export function assess(history: readonly Signal[], config: EdgeConfig): Assessment {
  const lastSignal = history.at(-1) ?? null;
  let lastHealth: NodeHealth | null = null;
  let lastOkAt: number | null = null;
  for (let i = history.length - 1; i >= 0 && (lastHealth === null || lastOkAt === null); i--) {
    const s = history[i]!;
    if (lastHealth === null && s.health) lastHealth = s.health;
    if (lastOkAt === null && s.outcome === 'ok') lastOkAt = s.at;
  }
  const failures = consecutiveFailures(history);
  const newestOk = lastSignal?.outcome === 'ok' ? lastSignal : null;
  const overloaded =
    newestOk !== null && (newestOk.health?.load.overloaded === true || gpuOverloaded(history, config));

  let state: NodeState;
  if (!lastSignal)
    state = 'suspect'; // never probed: not known to be up
  else if (lastSignal.outcome === 'ok') state = overloaded ? 'overloaded' : 'up';
  else if (lastSignal.outcome === 'not_ready') state = 'starting';
  else if (failures >= config.failThreshold) state = 'down';
  else state = 'suspect';
  return { state, consecutiveFailures: failures, overloaded, lastHealth, lastOkAt, lastSignal };
}

/** A master is failed over only after `failThreshold` consecutive probe failures; load never counts. */
export function shouldFailover(
  masterHistory: readonly Signal[],
  config: Pick<EdgeConfig, 'failThreshold'>,
): boolean {
  return consecutiveFailures(masterHistory) >= config.failThreshold;
}

/** Whether a node's own report says it could take writes (absent in older nodes: yes). */
export function writePathOk(health: NodeHealth | null | undefined): boolean {
  return health?.write_path === undefined || health.write_path === 'ok';
}

/** The newest consecutive probes that answered ok but reported the write path broken, newest first. */
export function writePathBroken(history: readonly Signal[]): Signal[] {
  const broken: Signal[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i]!;
    if (s.source !== 'probe') continue;
    if (s.outcome !== 'ok' || writePathOk(s.health)) break;
    broken.push(s);
  }
  return broken;
}

/** Since when a node has answered every probe with a working write path (null: its newest did not). */
export function writePathWorkingSince(history: readonly Signal[]): number | null {
  let since: number | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i]!;
    if (s.source !== 'probe') continue;
    if (s.outcome !== 'ok' || !writePathOk(s.health)) break;
    since = s.at;
  }
  return since;
}

/**
 * Why the master must be failed over, or null: `failThreshold` consecutive probe failures, or a
 * write path reported broken in that many consecutive probes taken while an electable standby's
 * write path was working (`standbys`: their signal histories).
 */
export function failoverReason(
  master: string,
  masterHistory: readonly Signal[],
  standbys: readonly (readonly Signal[])[],
  config: EdgeConfig,
): string | null {
  const n = config.failThreshold;
  if (shouldFailover(masterHistory, config)) return `master ${master} failed ${n} consecutive probes`;
  const broken = writePathBroken(masterHistory);
  if (broken.length < n) return null;
  for (const history of standbys) {
    const since = writePathWorkingSince(history);
    if (since === null || !isElectable(assess(history, config))) continue;
    if (broken.filter((s) => s.at >= since).length >= n)
      return `master ${master} reported its write path broken (${broken[0]!.health!.write_path}) in ${n} consecutive probes while a standby's worked`;
  }
  return null;
}

/**
 * Nodes that may become master: answered their last probe, ready, and able to take writes.
 * Overloaded still counts (load is not death).
 */
export function isElectable(assessment: Assessment): boolean {
  return (
    (assessment.state === 'up' || assessment.state === 'overloaded') &&
    assessment.lastHealth?.ready === true &&
    writePathOk(assessment.lastHealth)
  );
}
