/**
 * Failover as a persisted, idempotent state machine: plain data plus a pure transition function.
 *
 * The coordinator stores the record, performs the ONE effect the current step asks for, feeds the
 * result back through `transition`, and stores the next record, in that order, every time. Why:
 * - alarms are at-least-once: a result delivered again (wrong step or epoch) is ignored, and a
 *   `tick` only ever asks for the CURRENT step's effect, so a step that is done is never redone;
 * - a crash between steps resumes from the stored step (its effect may run a second time, which
 *   the node API makes harmless: activate/degrade/standby are idempotent per epoch);
 * - the new epoch is stored (step `fence`) before any node is called, so a deposed master can
 *   never be re-armed with a number someone else already used.
 *
 * Step plans (ARCHITECTURE.md section 6):
 *   failover   fence → degrade old master (best effort) → activate → route → verify → report
 *   switchover fence → activate → route → verify → demote old master to standby → report
 *              (the caught-up standby takes over BEFORE the master leaves, and the old master keeps
 *              serving reads as a standby: zero failed requests)
 *   election   fence → activate → route → verify → report   (a fresh cluster has no master)
 * A failed activation or canary rolls back: a new attempt under a newer epoch, to the old master if
 * it is healthy, else to the next standby; the failed candidate is degraded first.
 */
import type { NodeHealth } from '../shared/schemas.ts';
import type { Signal } from './detector.ts';
import { compareSeq } from '../shared/stream-id.ts';

export type FailoverKind = 'failover' | 'switchover' | 'election';
export type Step = 'fence' | 'degrade' | 'activate' | 'route' | 'verify' | 'demote' | 'report' | 'done';
export type Outcome = 'in_progress' | 'succeeded' | 'rolled_back' | 'failed';

export interface Candidate {
  id: string;
  appliedSeq: string;
  priority: number;
  /** Answered its last probe and is ready (detector.isElectable). */
  healthy: boolean;
}

/** What the transition needs to know about the world; the coordinator builds it fresh each call. */
export interface ClusterView {
  epoch: number;
  /** Highest epoch any node has reported: a new epoch must exceed it, or activation is refused as stale. */
  maxObservedEpoch: number;
  nodes: Candidate[];
  activateVerifyMs: number;
}

export interface StepLog {
  step: Step;
  node: string | null;
  epoch: number;
  at: number;
  ok: boolean;
  detail?: string;
}

export interface FailoverRecord {
  id: string;
  kind: FailoverKind;
  step: Step;
  plan: Step[];
  outcome: Outcome;
  /** The master when it started (null for an election). */
  from: string | null;
  /** The candidate of the current attempt. */
  to: string;
  epoch: number;
  /** Node degraded in this attempt: the old master first, the failed candidate after a rollback. */
  demote: string | null;
  tried: string[];
  attempt: number;
  startedAt: number;
  finishedAt: number | null;
  verifyDeadline: number | null;
  canaryTries: number;
  log: StepLog[];
  trigger: Signal[];
  oldMasterHealth: NodeHealth | null;
  diagnostics: unknown;
  reason: string;
}

export type Effect =
  | { type: 'set_epoch'; epoch: number }
  | { type: 'degrade'; node: string; epoch: number }
  | { type: 'activate'; node: string; epoch: number }
  | { type: 'route'; master: string; epoch: number }
  | { type: 'canary'; node: string; deadlineAt: number; attempt: number }
  | { type: 'standby'; node: string; epoch: number; master: string }
  | { type: 'write_report' };

export type FailoverEvent =
  | { type: 'tick'; at: number }
  | { type: 'result'; step: Step; epoch: number; ok: boolean; at: number; detail?: string };

export interface Transition {
  record: FailoverRecord;
  effects: Effect[];
}

export interface PlanInput {
  kind: FailoverKind;
  id: string;
  at: number;
  master: string | null;
  /** Switchover target chosen by the operator. */
  to?: string;
  trigger?: Signal[];
  oldMasterHealth?: NodeHealth | null;
  reason: string;
}

export type PlanResult =
  | ({ ok: true } & Transition)
  | {
      ok: false;
      code: 'no_candidate' | 'unknown_target' | 'target_not_healthy' | 'already_master';
      message: string;
    };

/** Healthy candidates, best first: highest applied position, then priority, then id (stable). */
export function rankCandidates(
  nodes: readonly Candidate[],
  exclude: readonly (string | null)[],
): Candidate[] {
  return nodes
    .filter((n) => n.healthy && !exclude.includes(n.id))
    .sort(
      (a, b) =>
        compareSeq(b.appliedSeq, a.appliedSeq) ||
        b.priority - a.priority ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

function nextEpoch(view: ClusterView, floor: number = 0): number {
  return Math.max(view.epoch, view.maxObservedEpoch, floor) + 1;
}

function firstPlan(kind: FailoverKind, from: string | null): Step[] {
  if (kind === 'switchover') return ['fence', 'activate', 'route', 'verify', 'demote', 'report', 'done'];
  if (kind === 'failover' && from)
    return ['fence', 'degrade', 'activate', 'route', 'verify', 'report', 'done'];
  return ['fence', 'activate', 'route', 'verify', 'report', 'done'];
}

/** Starts a failover, switchover or election: picks the candidate and the new epoch. */
export function planFailover(input: PlanInput, view: ClusterView): PlanResult {
  let candidate: Candidate | undefined;
  if (input.to !== undefined) {
    const target = view.nodes.find((n) => n.id === input.to);
    if (!target)
      return { ok: false, code: 'unknown_target', message: `node "${input.to}" is not registered` };
    if (target.id === input.master)
      return { ok: false, code: 'already_master', message: `node "${input.to}" is already the master` };
    if (!target.healthy)
      return {
        ok: false,
        code: 'target_not_healthy',
        message: `node "${input.to}" is not up and ready; pick another or wait`,
      };
    candidate = target;
  } else {
    candidate = rankCandidates(view.nodes, [input.master])[0];
  }
  if (!candidate) {
    return {
      ok: false,
      code: 'no_candidate',
      message: 'no healthy, ready standby to promote; bring a standby up (see /api/v1/status)',
    };
  }
  const plan = firstPlan(input.kind, input.master);
  const record: FailoverRecord = {
    id: input.id,
    kind: input.kind,
    step: plan[0]!,
    plan,
    outcome: 'in_progress',
    from: input.master,
    to: candidate.id,
    epoch: nextEpoch(view),
    demote: input.kind === 'failover' ? input.master : null,
    tried: [candidate.id],
    attempt: 0,
    startedAt: input.at,
    finishedAt: null,
    verifyDeadline: null,
    canaryTries: 0,
    log: [],
    trigger: input.trigger ?? [],
    oldMasterHealth: input.oldMasterHealth ?? null,
    diagnostics: null,
    reason: input.reason,
  };
  return { ok: true, record, effects: effectsFor(record) };
}

/** The effect the current step asks for (empty when done). */
export function effectsFor(record: FailoverRecord): Effect[] {
  switch (record.step) {
    case 'fence':
      return [{ type: 'set_epoch', epoch: record.epoch }];
    case 'degrade':
      return record.demote ? [{ type: 'degrade', node: record.demote, epoch: record.epoch }] : [];
    case 'activate':
      return [{ type: 'activate', node: record.to, epoch: record.epoch }];
    case 'route':
      return [{ type: 'route', master: record.to, epoch: record.epoch }];
    case 'verify':
      return [
        {
          type: 'canary',
          node: record.to,
          deadlineAt: record.verifyDeadline ?? 0,
          attempt: record.canaryTries,
        },
      ];
    case 'demote':
      return record.from
        ? [{ type: 'standby', node: record.from, epoch: record.epoch, master: record.to }]
        : [];
    case 'report':
      return [{ type: 'write_report' }];
    case 'done':
      return [];
  }
}

function nodeOf(record: FailoverRecord, step: Step): string | null {
  if (step === 'degrade') return record.demote;
  if (step === 'demote') return record.from;
  if (step === 'fence' || step === 'report' || step === 'done') return null;
  return record.to;
}

function advance(record: FailoverRecord, at: number, view: ClusterView): FailoverRecord {
  const index = record.plan.indexOf(record.step);
  let step = record.plan[index + 1] ?? 'done';
  // A step with nothing to do (no old master to degrade) is skipped rather than stored as a no-op.
  while ((step === 'degrade' && !record.demote) || (step === 'demote' && !record.from)) {
    step = record.plan[record.plan.indexOf(step) + 1] ?? 'done';
  }
  const next: FailoverRecord = { ...record, step };
  if (step === 'verify') {
    next.verifyDeadline = at + view.activateVerifyMs;
    next.canaryTries = 0;
  }
  if (step === 'done') {
    next.finishedAt = at;
    if (next.outcome === 'in_progress') next.outcome = record.attempt === 0 ? 'succeeded' : 'rolled_back';
  }
  return next;
}

/** A failed activation or canary: try the old master (if healthy) or the next standby under a newer epoch. */
function rollback(record: FailoverRecord, _at: number, view: ClusterView, why: string): FailoverRecord {
  const oldMaster = record.from
    ? view.nodes.find((n) => n.id === record.from && n.healthy && !record.tried.includes(n.id))
    : undefined;
  const next = oldMaster ?? rankCandidates(view.nodes, [...record.tried, record.from])[0];
  if (!next) {
    return {
      ...record,
      step: 'report',
      outcome: 'failed',
      reason: `${record.reason}; ${why}; no other healthy node to roll back to`,
    };
  }
  return {
    ...record,
    step: 'fence',
    plan: ['fence', 'degrade', 'activate', 'route', 'verify', 'report', 'done'],
    to: next.id,
    epoch: nextEpoch(view, record.epoch),
    demote: record.to,
    tried: [...record.tried, next.id],
    attempt: record.attempt + 1,
    verifyDeadline: null,
    canaryTries: 0,
    reason: `${record.reason}; rolled back (${why})`,
  };
}

/**
 * The one transition function. `tick` (alarm, resume after a crash) asks for the current step's
 * effect again; a `result` for another step or epoch is a duplicate and changes nothing.
 */
export function transition(record: FailoverRecord, event: FailoverEvent, view: ClusterView): Transition {
  if (record.step === 'done') return { record, effects: [] };
  if (event.type === 'tick') return { record, effects: effectsFor(record) };
  if (event.step !== record.step || event.epoch !== record.epoch) return { record, effects: [] };

  const entry: StepLog = {
    step: event.step,
    node: nodeOf(record, event.step),
    epoch: record.epoch,
    at: event.at,
    ok: event.ok,
  };
  if (event.detail) entry.detail = event.detail;
  const logged: FailoverRecord = { ...record, log: [...record.log, entry] };

  let next: FailoverRecord;
  if (event.step === 'activate' && !event.ok) {
    next = rollback(logged, event.at, view, `activate ${record.to} failed: ${event.detail ?? 'no detail'}`);
  } else if (event.step === 'verify' && !event.ok) {
    next =
      event.at < (record.verifyDeadline ?? 0)
        ? { ...logged, canaryTries: record.canaryTries + 1 }
        : rollback(logged, event.at, view, `canary on ${record.to} failed for ${view.activateVerifyMs} ms`);
  } else {
    // degrade and demote are best effort (the old master may be dead): a failure is logged, not fatal.
    next = advance(logged, event.at, view);
  }
  return { record: next, effects: effectsFor(next) };
}
