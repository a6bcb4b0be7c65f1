/**
 * Starting the failover machine (./failover.ts): which candidate to promote, under which epoch,
 * with which plan of steps. Pure; a refusal is a typed code the coordinator answers with.
 */
import { compareSeq } from '../shared/stream-id.ts';
import type { NodeHealth } from '../shared/schemas.ts';
import type { Signal } from './detector.ts';
import {
  effectsFor,
  type Candidate,
  type ClusterView,
  type FailoverKind,
  type FailoverRecord,
  type Step,
  type Transition,
} from './failover-record.ts';

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

export function nextEpoch(view: ClusterView, floor: number = 0): number {
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
