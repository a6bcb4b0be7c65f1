/**
 * The failover machine's data (see ./failover.ts for the machine): the persisted record, the
 * view of the cluster a transition reads, the effects a step asks for and the events fed back.
 * Plain, JSON-serialisable data: the coordinator stores the record as it is after every step.
 */
import type { ReportDiagnostics } from '../shared/edge-api.ts';
import type { NodeHealth } from '../shared/schemas.ts';
import type { Signal } from './detector.ts';

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
  diagnostics: ReportDiagnostics | null;
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
