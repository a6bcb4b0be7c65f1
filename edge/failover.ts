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
 *
 * The data lives in ./failover-record.ts, the start (candidate, epoch, plan) in ./failover-plan.ts;
 * both are re-exported here, so callers import the machine from this one file.
 */
import { nextEpoch, rankCandidates } from './failover-plan.ts';
import {
  effectsFor,
  type ClusterView,
  type FailoverEvent,
  type FailoverRecord,
  type Step,
  type StepLog,
  type Transition,
} from './failover-record.ts';

export * from './failover-plan.ts';
export * from './failover-record.ts';

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
