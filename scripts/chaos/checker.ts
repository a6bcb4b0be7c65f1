/**
 * The chaos checker: what one scenario run recorded in, what went wrong out.
 *
 * Pure (plain records in, a plain report out) so every rule is unit-tested without a cluster
 * (test/unit/chaos-checker.test.ts). The records come from the load generators
 * (load.ts, write-load.ts), the status monitor and the final reads (runner.ts); their types are
 * in records.ts.
 *
 * The write model: ops on one document id are issued one at a time, and after an op that was not
 * acknowledged (it may or may not have happened, and a queued ingest job may still run later) the
 * writer never touches that id again. So at any moment the acceptable states of an id are the state
 * after the last op acknowledged by then, plus the state after any later op that was in flight or
 * never acknowledged. A search hit or a final read outside that set is a violation.
 */

import { checkJobs, isForeign, unresolvedNote } from './provenance.ts';
// The invariants a report must hold live beside it; imported from here by the runner and the tests.
export { type FailoverExpectation, violations } from './invariants.ts';
import type { WriteRecord, MasterSample, RunRecords, CheckOptions, RunReport } from './records.ts';

type DocState = { kind: 'absent' } | { kind: 'present'; text: string };
const ABSENT: DocState = { kind: 'absent' };

function stateAfter(op: WriteRecord): DocState {
  return op.op === 'delete' ? ABSENT : { kind: 'present', text: op.text ?? '' };
}

function sameState(a: DocState, b: DocState): boolean {
  return a.kind === b.kind && (a.kind === 'absent' || a.text === (b as { text: string }).text);
}

/** Ops per id, in issue order. */
export function opsById(writes: readonly WriteRecord[]): Map<string, WriteRecord[]> {
  const byId = new Map<string, WriteRecord[]>();
  for (const w of writes) {
    let list = byId.get(w.id);
    if (!list) {
      list = [];
      byId.set(w.id, list);
    }
    list.push(w);
  }
  for (const list of byId.values()) list.sort((a, b) => a.startedAt - b.startedAt);
  return byId;
}

export interface Acceptable {
  /** State after the last op acknowledged by then (absent when none was). */
  settled: DocState;
  /** The op that settled it (null: none acknowledged). */
  settledBy: WriteRecord | null;
  states: DocState[];
}

/**
 * What a reader may see of one id: at time `at` (a search: ops acknowledged more than `graceMs`
 * before it settle the state; ops started before `until` may already show), or after the run
 * (`at` = Infinity: every acknowledged op settles).
 */
export function acceptableStates(
  ops: readonly WriteRecord[],
  at: number = Infinity,
  graceMs: number = 0,
  until: number = Infinity,
): Acceptable {
  let settledIndex = -1;
  for (let i = 0; i < ops.length; i++)
    if (ops[i]!.acked && ops[i]!.finishedAt + graceMs <= at) settledIndex = i;
  const settledBy = settledIndex >= 0 ? ops[settledIndex]! : null;
  const settled = settledBy ? stateAfter(settledBy) : ABSENT;
  const states: DocState[] = [settled];
  for (let i = settledIndex + 1; i < ops.length; i++)
    if (ops[i]!.startedAt <= until) states.push(stateAfter(ops[i]!));
  return { settled, settledBy, states };
}

function isAcceptable(seen: DocState, acceptable: Acceptable): boolean {
  return acceptable.states.some((s) => sameState(s, seen));
}

function overlaps(
  record: { startedAt: number; finishedAt: number },
  windows: readonly [number, number][],
): boolean {
  return windows.some(([from, to]) => record.startedAt <= to && record.finishedAt >= from);
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Entries whose epoch is lower than the one before (the fenced log must never go back). */
export function epochOrderViolations(epochs: readonly number[]): number {
  let violations = 0;
  for (let i = 1; i < epochs.length; i++) if (epochs[i]! < epochs[i - 1]!) violations++;
  return violations;
}

/** Master changes after the fault: each first sighting of a higher epoch with a master. */
export function masterChanges(
  masters: readonly MasterSample[],
  faultAt: number,
  before: { master: string | null; epoch: number },
): MasterSample[] {
  const changes: MasterSample[] = [];
  let epoch = before.epoch;
  for (const m of [...masters].sort((a, b) => a.at - b.at)) {
    if (m.at < faultAt || m.master === null || m.epoch <= epoch) continue;
    epoch = m.epoch;
    changes.push(m);
  }
  return changes;
}

export function checkRun(records: RunRecords, options: CheckOptions = {}): RunReport {
  const graceMs = options.readGraceMs ?? 500;
  const maxSamples = options.samples ?? 5;
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < maxSamples * 4) examples.push(text);
  };
  const byId = opsById(records.writes);

  // ---- searches ----
  let failedSearches = 0;
  let failedWhileNoneHealthy = 0;
  let staleAnswers = 0;
  let deletedAnswers = 0;
  let duplicateAnswers = 0;
  let foreignAnswers = 0;
  const servedBy: Record<string, number> = {};
  const latencies: number[] = [];
  for (const s of records.searches) {
    latencies.push(s.finishedAt - s.startedAt);
    if (!s.ok) {
      if (overlaps(s, records.noHealthyNode)) failedWhileNoneHealthy++;
      else {
        failedSearches++;
        note(
          `failed search at +${s.startedAt - records.faultAt} ms: ${s.status ?? 'no answer'} ${s.error ?? ''}`.trim(),
        );
      }
      continue;
    }
    if (s.servedBy) servedBy[s.servedBy] = (servedBy[s.servedBy] ?? 0) + 1;
    const results = s.results ?? [];
    const ids = results.map((r) => r.id);
    if (new Set(ids).size !== ids.length) {
      duplicateAnswers++;
      note(`duplicate ids in one answer (${s.servedBy}): ${ids.join(',')}`);
    }
    for (const hit of results) {
      const ops = byId.get(hit.id);
      if (isForeign(hit, ops)) {
        foreignAnswers++;
        note(
          `search served by ${s.servedBy} at +${s.startedAt - records.faultAt} ms returned ${hit.id} with a text never written for it: ${hit.text.slice(-60)}`,
        );
        continue;
      }
      if (!ops) continue; // a corpus document, not written by this run
      const acceptable = acceptableStates(ops, s.startedAt, graceMs, s.finishedAt);
      if (isAcceptable({ kind: 'present', text: hit.text }, acceptable)) continue;
      if (acceptable.settled.kind === 'absent' && acceptable.settledBy) {
        deletedAnswers++;
        note(
          `search served by ${s.servedBy} at +${s.startedAt - records.faultAt} ms returned ${hit.id}, deleted (acknowledged ${s.startedAt - acceptable.settledBy.finishedAt} ms before)`,
        );
      } else {
        staleAnswers++;
        note(
          `search served by ${s.servedBy} at +${s.startedAt - records.faultAt} ms returned a superseded version of ${hit.id}`,
        );
      }
    }
  }

  // ---- writes: what the edge (and each node) holds afterwards ----
  // A 202 write whose job completed is held to what an acknowledged one is; a failed job's is dropped.
  const jobs = checkJobs(records.writes, records.jobs);
  for (const w of jobs.unresolved) note(unresolvedNote(w, records.jobs));
  const finalById = opsById(jobs.writes);
  const failedTexts = new Set(jobs.failedWrites.map((w) => `${w.id}\n${w.text}`));
  let jobViolations = jobs.unresolved.length;
  let lostWrites = 0;
  let resurrected = 0;
  let unverified = 0;
  let nodeDivergence = 0;
  for (const read of records.finalReads) {
    const ops = finalById.get(read.id);
    if (read.status === 200 && failedTexts.has(`${read.id}\n${read.text}`)) {
      jobViolations++;
      note(`${read.id} reads back${read.node ? ` on ${read.node}` : ''} a write whose job reported failed`);
      continue;
    }
    if (!ops) continue;
    const acceptable = acceptableStates(ops);
    if (read.status !== 200 && read.status !== 404) {
      if (read.node === null) {
        unverified++;
        note(`final read of ${read.id} through the edge failed: ${read.status ?? 'no answer'}`);
      } else {
        nodeDivergence++;
        note(`final read of ${read.id} on ${read.node} failed: ${read.status ?? 'no answer'}`);
      }
      continue;
    }
    const seen: DocState = read.status === 404 ? ABSENT : { kind: 'present', text: read.text ?? '' };
    if (isAcceptable(seen, acceptable)) continue;
    if (read.node !== null) {
      nodeDivergence++;
      note(
        `node ${read.node} disagrees on ${read.id}: ${seen.kind === 'absent' ? 'absent' : 'other text'}, expected ${acceptable.settled.kind}`,
      );
    } else if (acceptable.settled.kind === 'absent' && acceptable.settledBy) {
      resurrected++;
      note(`${read.id} was deleted (acknowledged) but reads back`);
    } else if (acceptable.settledBy) {
      lostWrites++;
      note(
        `acknowledged ${read.id} ${seen.kind === 'absent' ? 'is missing' : 'reads back an older version'}`,
      );
    }
  }
  for (const search of records.finalNodeSearches ?? []) {
    for (const hit of search.results) {
      const ops = finalById.get(hit.id);
      if (!ops) continue;
      const acceptable = acceptableStates(ops);
      if (isAcceptable({ kind: 'present', text: hit.text }, acceptable)) continue;
      resurrected++;
      note(
        `node ${search.node} still finds ${hit.id} by search after the run (${acceptable.settled.kind === 'absent' ? 'deleted' : 'superseded'})`,
      );
    }
  }

  const changes = masterChanges(records.masters, records.faultAt, records.before);
  const firstGood = records.searches
    .filter((s) => s.ok && s.startedAt >= records.faultAt)
    .reduce<number | null>((min, s) => (min === null || s.finishedAt < min ? s.finishedAt : min), null);
  latencies.sort((a, b) => a - b);
  const acked = records.writes.filter((w) => w.acked).length;
  return {
    searches: records.searches.length,
    skippedSearches: records.skippedSearches ?? 0,
    failedSearches,
    failedWhileNoneHealthy,
    staleAnswers,
    deletedAnswers,
    duplicateAnswers,
    foreignAnswers,
    ackedWrites: acked,
    unackedWrites: records.writes.length - acked,
    jobsApplied: jobs.applied,
    jobsFailed: jobs.failed,
    jobViolations,
    lostWrites,
    resurrected,
    unverified,
    nodeDivergence,
    epochOrderViolations: epochOrderViolations(records.logEpochs),
    logEntries: records.logEpochs.length,
    failovers: changes.length,
    timeToNewMasterMs: changes[0] ? changes[0].at - records.faultAt : null,
    timeToFirstGoodAnswerMs: firstGood === null ? null : firstGood - records.faultAt,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? null,
    },
    servedBy,
    examples,
  };
}
