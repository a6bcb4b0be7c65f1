/**
 * The chaos checker's rules (scripts/chaos/checker.ts) on hand-made records: which failed searches
 * count, what a stale or deleted answer is given the acknowledgement times, lost and resurrected
 * writes, ambiguous (unacknowledged) writes, duplicates, foreign answers, what became of writes
 * answered 202 (their jobs), epoch order, and failover timing.
 */
import { describe, expect, it } from 'vitest';
import {
  acceptableStates,
  checkRun,
  epochOrderViolations,
  masterChanges,
  violations,
} from '../../scripts/chaos/checker.ts';
import { markerId } from '../../scripts/chaos/provenance.ts';
import type {
  FinalRead,
  JobOutcome,
  RunRecords,
  SearchRecord,
  WriteRecord,
} from '../../scripts/chaos/records.ts';

const T0 = 1_000_000;

function search(at: number, over: Partial<SearchRecord> = {}): SearchRecord {
  return {
    startedAt: T0 + at,
    finishedAt: T0 + at + 20,
    ok: true,
    status: 200,
    error: null,
    servedBy: 'n1',
    role: 'master',
    epoch: 1,
    query: 'q',
    results: [],
    ...over,
  };
}

function write(
  id: string,
  op: 'upsert' | 'delete',
  at: number,
  acked = true,
  text: string | null = op === 'upsert' ? `${id} v${at}` : null,
  took = 50,
): WriteRecord {
  return {
    id,
    op,
    text,
    startedAt: T0 + at,
    finishedAt: T0 + at + took,
    acked,
    status: acked ? 200 : 503,
    error: acked ? null : 'no_master_available',
  };
}

function records(over: Partial<RunRecords> = {}): RunRecords {
  return {
    searches: [],
    writes: [],
    finalReads: [],
    logEpochs: [],
    masters: [],
    faultAt: T0 + 5000,
    before: { master: 'n1', epoch: 1 },
    noHealthyNode: [],
    ...over,
  };
}

const edgeRead = (id: string, status: number, text: string | null = null): FinalRead => ({
  id,
  node: null,
  status,
  text,
});

describe('acceptableStates', () => {
  it('is the last acknowledged state plus every later op that may have happened', () => {
    const ops = [
      write('a', 'upsert', 0, true, 'v1'),
      write('a', 'upsert', 100, true, 'v2'),
      write('a', 'delete', 200, false),
    ];
    const after = acceptableStates(ops);
    expect(after.settled).toEqual({ kind: 'present', text: 'v2' });
    expect(after.states).toEqual([{ kind: 'present', text: 'v2' }, { kind: 'absent' }]);
  });

  it('at a point in time, only acknowledgements older than the grace settle the state', () => {
    const ops = [write('a', 'upsert', 0, true, 'v1'), write('a', 'upsert', 100, true, 'v2')]; // acked at +50 and +150
    expect(
      acceptableStates(ops, T0 + 160, 500, T0 + 200).states.map((s) =>
        s.kind === 'present' ? s.text : 'absent',
      ),
    ).toEqual(['absent', 'v1', 'v2']);
    expect(
      acceptableStates(ops, T0 + 600, 500, T0 + 620).states.map((s) =>
        s.kind === 'present' ? s.text : 'absent',
      ),
    ).toEqual(['v1', 'v2']);
    expect(
      acceptableStates(ops, T0 + 700, 500, T0 + 720).states.map((s) =>
        s.kind === 'present' ? s.text : 'absent',
      ),
    ).toEqual(['v2']);
  });

  it('an op that had not started when the search ended cannot be visible to it', () => {
    const ops = [write('a', 'upsert', 0, true, 'v1'), write('a', 'upsert', 1000, true, 'v2')];
    expect(acceptableStates(ops, T0 + 500, 0, T0 + 520).states).toEqual([{ kind: 'present', text: 'v1' }]);
  });
});

describe('checkRun: searches', () => {
  it('counts failed searches only while a healthy node existed', () => {
    const report = checkRun(
      records({
        searches: [
          search(0),
          search(6000, { ok: false, status: 503, error: 'no_node_available' }),
          search(9000, { ok: false, status: 503 }),
          search(20_000, { ok: false, status: null, error: 'client_timeout' }),
        ],
        noHealthyNode: [[T0 + 8000, T0 + 12_000]],
      }),
    );
    expect(report.failedSearches).toBe(2);
    expect(report.failedWhileNoneHealthy).toBe(1);
    expect(violations(report, { failover: 'any' })).toEqual([
      '2 search(es) failed while a healthy node existed',
    ]);
  });

  it('a search that overlaps the outage only at its end is excused', () => {
    const report = checkRun(
      records({
        searches: [search(7990, { ok: false, status: 503 })],
        noHealthyNode: [[T0 + 8000, T0 + 9000]],
      }),
    );
    expect(report.failedSearches).toBe(0);
  });

  it('flags a deleted document returned after its deletion was acknowledged (beyond the grace)', () => {
    const writes = [write('d', 'upsert', 0, true, 'doc d v1'), write('d', 'delete', 1000)]; // delete acked at +1050
    const hit = { id: 'd', text: 'doc d v1' };
    const report = checkRun(
      records({
        writes,
        searches: [search(1100, { results: [hit] }), search(3000, { results: [hit] })],
        finalReads: [edgeRead('d', 404)],
      }),
      { readGraceMs: 500 },
    );
    expect(report.deletedAnswers).toBe(1); // the one at +1100 is within the grace
    expect(report.resurrected).toBe(0);
  });

  it('flags a superseded version, but accepts an in-flight newer one', () => {
    const writes = [write('s', 'upsert', 0, true, 'v1'), write('s', 'upsert', 1000, true, 'v2', 2000)]; // v2 in flight 1000..3000
    const report = checkRun(
      records({
        writes,
        searches: [
          search(1500, { results: [{ id: 's', text: 'v2' }] }),
          search(4000, { results: [{ id: 's', text: 'v1' }] }),
        ],
        finalReads: [edgeRead('s', 200, 'v2')],
      }),
      { readGraceMs: 500 },
    );
    expect(report.staleAnswers).toBe(1);
    expect(report.lostWrites).toBe(0);
  });

  it('ignores documents the run did not write, and counts duplicate ids', () => {
    const report = checkRun(
      records({
        searches: [
          search(0, {
            results: [
              { id: 'corpus-1', text: 'x' },
              { id: 'corpus-1', text: 'x' },
            ],
          }),
        ],
      }),
    );
    expect(report.duplicateAnswers).toBe(1);
    expect(report.staleAnswers + report.deletedAnswers).toBe(0);
  });
});

describe('checkRun: writes read back', () => {
  it('an acknowledged upsert that reads back absent or older is lost', () => {
    const writes = [
      write('a', 'upsert', 0, true, 'a1'),
      write('b', 'upsert', 0, true, 'b1'),
      write('b', 'upsert', 100, true, 'b2'),
      write('c', 'upsert', 0, true, 'c1'),
    ];
    const report = checkRun(
      records({
        writes,
        finalReads: [edgeRead('a', 404), edgeRead('b', 200, 'b1'), edgeRead('c', 200, 'c1')],
      }),
    );
    expect(report.lostWrites).toBe(2);
    expect(report.ackedWrites).toBe(4);
    expect(violations(report, { failover: 'any' })).toContain('2 acknowledged write(s) lost');
  });

  it('an acknowledged delete that reads back (edge or a node search) is resurrected', () => {
    const writes = [write('a', 'upsert', 0, true, 'a1'), write('a', 'delete', 100)];
    const report = checkRun(
      records({
        writes,
        finalReads: [edgeRead('a', 200, 'a1')],
        finalNodeSearches: [{ node: 'n2', query: 'a', results: [{ id: 'a', text: 'a1' }] }],
      }),
    );
    expect(report.resurrected).toBe(2);
  });

  it('an unacknowledged write may or may not have happened', () => {
    const writes = [
      write('a', 'upsert', 0, false, 'a1'),
      write('b', 'upsert', 0, true, 'b1'),
      write('b', 'delete', 100, false),
    ];
    for (const reads of [
      [edgeRead('a', 404), edgeRead('b', 404)],
      [edgeRead('a', 200, 'a1'), edgeRead('b', 200, 'b1')],
    ]) {
      const report = checkRun(records({ writes, finalReads: reads }));
      expect(report.lostWrites + report.resurrected).toBe(0);
      expect(report.unackedWrites).toBe(2);
    }
  });

  it('a node that disagrees, and a read that fails, are reported apart', () => {
    const writes = [write('a', 'upsert', 0, true, 'a1')];
    const report = checkRun(
      records({
        writes,
        finalReads: [
          edgeRead('a', 503),
          { id: 'a', node: 'n2', status: 404, text: null },
          { id: 'a', node: 'n1', status: 200, text: 'a1' },
        ],
      }),
    );
    expect(report.unverified).toBe(1);
    expect(report.nodeDivergence).toBe(1);
    expect(report.lostWrites).toBe(0);
  });
});

describe('epochs and failovers', () => {
  it('counts log entries whose epoch goes back', () => {
    expect(epochOrderViolations([1, 1, 2, 2, 3])).toBe(0);
    expect(epochOrderViolations([1, 2, 1, 2, 3, 2])).toBe(2);
    expect(epochOrderViolations([])).toBe(0);
  });

  it('finds master changes after the fault and times the first one', () => {
    const masters = [
      { at: T0 + 4000, master: 'n1', epoch: 1 },
      { at: T0 + 5200, master: 'n1', epoch: 1 },
      { at: T0 + 6500, master: 'n2', epoch: 2 },
      { at: T0 + 6600, master: 'n2', epoch: 2 },
      { at: T0 + 9000, master: 'n3', epoch: 3 },
    ];
    expect(masterChanges(masters, T0 + 5000, { master: 'n1', epoch: 1 }).map((m) => m.master)).toEqual([
      'n2',
      'n3',
    ]);
    const report = checkRun(records({ masters, searches: [search(4000), search(5100)] }));
    expect(report.failovers).toBe(2);
    expect(report.timeToNewMasterMs).toBe(1500);
    expect(report.timeToFirstGoodAnswerMs).toBe(120);
    expect(violations(report, { failover: 'forbidden' })).toEqual(['expected no failover, saw 2']);
    expect(violations(report, { failover: 'required', minFailovers: 3 })).toEqual([
      'expected 3 failover(s), saw 2',
    ]);
    expect(violations(report, { failover: 'required', minFailovers: 2 })).toEqual([]);
  });
});

describe('checkRun: foreign answers', () => {
  const text = (id: string, v: number) => `how to reset a password [${id} version ${v}]`;

  it('reads the id out of a written text', () => {
    expect(markerId(text('run-00003', 2))).toBe('run-00003');
    expect(markerId('a corpus document')).toBeNull();
  });

  it('a hit whose text belongs to another id is foreign, whoever wrote it', () => {
    const writes = [write('a', 'upsert', 0, true, text('a', 1)), write('b', 'upsert', 0, true, text('b', 1))];
    const report = checkRun(
      records({
        writes,
        searches: [
          search(1000, { results: [{ id: 'a', text: text('b', 1) }] }),
          search(1000, { results: [{ id: 'corpus-7', text: text('b', 1) }] }),
        ],
        finalReads: [edgeRead('a', 200, text('a', 1)), edgeRead('b', 200, text('b', 1))],
      }),
    );
    expect(report.foreignAnswers).toBe(2);
    expect(report.staleAnswers + report.deletedAnswers).toBe(0);
    expect(violations(report, { failover: 'any' })).toEqual([
      '2 answer(s) returned a text never written for that id (foreign or wrong)',
    ]);
  });

  it('a text never written for a written id is foreign; an older version of it is stale', () => {
    const writes = [
      write('a', 'upsert', 0, true, text('a', 1)),
      write('a', 'upsert', 100, true, text('a', 2)),
    ];
    const report = checkRun(
      records({
        writes,
        searches: [
          search(2000, { results: [{ id: 'a', text: text('a', 7) }] }),
          search(2000, { results: [{ id: 'a', text: text('a', 1) }] }),
        ],
        finalReads: [edgeRead('a', 200, text('a', 2))],
      }),
      { readGraceMs: 500 },
    );
    expect(report.foreignAnswers).toBe(1);
    expect(report.staleAnswers).toBe(1);
  });
});

describe('checkRun: writes answered 202', () => {
  const accepted = (id: string, at: number, jobId: string): WriteRecord => ({
    ...write(id, 'upsert', at, false, `${id} v${at}`),
    status: 202,
    error: 'wait_timeout',
    jobId,
  });
  const job = (jobId: string, state: string | null, status: number | null = 200): JobOutcome => ({
    jobId,
    status,
    state,
    error: state === 'failed' ? 'disk full' : null,
  });

  it('a completed job is held to what an acknowledged write is: it must read back', () => {
    const writes = [accepted('a', 0, 'j1'), accepted('b', 0, 'j2')];
    const report = checkRun(
      records({
        writes,
        jobs: [job('j1', 'completed'), job('j2', 'completed')],
        finalReads: [edgeRead('a', 200, 'a v0'), edgeRead('b', 404)],
      }),
    );
    expect(report.jobsApplied).toBe(2);
    expect(report.lostWrites).toBe(1);
    expect(report.jobViolations).toBe(0);
  });

  it('a failed job is fine when its write never shows, a violation when it does', () => {
    const writes = [accepted('a', 0, 'j1'), accepted('b', 0, 'j2')];
    const report = checkRun(
      records({
        writes,
        jobs: [job('j1', 'failed'), job('j2', 'failed')],
        finalReads: [edgeRead('a', 404), edgeRead('b', 200, 'b v0')],
      }),
    );
    expect(report.jobsFailed).toBe(2);
    expect(report.jobViolations).toBe(1);
    expect(report.lostWrites).toBe(0);
  });

  it('a job still waiting, unknown, or unreadable after the run is a violation', () => {
    const writes = [accepted('a', 0, 'j1'), accepted('b', 0, 'j2'), accepted('c', 0, 'j3')];
    const report = checkRun(
      records({
        writes,
        jobs: [job('j1', 'waiting'), job('j2', null, 404), job('j3', null, null)],
        finalReads: [edgeRead('a', 404), edgeRead('b', 404), edgeRead('c', 404)],
      }),
    );
    expect(report.jobViolations).toBe(3);
    expect(report.unackedWrites).toBe(3);
    expect(violations(report, { failover: 'any' })).toEqual([
      '3 write(s) answered 202 neither applied nor reported failed by their job (or applied though failed)',
    ]);
  });
});
