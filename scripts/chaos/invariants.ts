/**
 * The invariants every chaos run must hold, read off the checker's report (checker.ts) as
 * readable sentences. Re-exported by checker.ts, where the runner and the tests import them.
 */
import type { RunReport } from './records.ts';

export type FailoverExpectation = 'required' | 'forbidden' | 'any';

/**
 * The invariants every scenario must hold, as readable sentences (empty = all held):
 * no failed search while a healthy node exists, no lost or resurrected acknowledged write, no
 * stale or deleted document in an answer, no duplicate ids, epochs in order in the log, and a
 * failover when the scenario needs one and none when it must not (overload is not death).
 */
export function violations(
  report: RunReport,
  expect: { failover: FailoverExpectation; minFailovers?: number },
): string[] {
  const out: string[] = [];
  if (report.failedSearches > 0)
    out.push(`${report.failedSearches} search(es) failed while a healthy node existed`);
  if (report.lostWrites > 0) out.push(`${report.lostWrites} acknowledged write(s) lost`);
  if (report.resurrected > 0)
    out.push(`${report.resurrected} acknowledged delete(s) undone (document found again)`);
  if (report.deletedAnswers > 0) out.push(`${report.deletedAnswers} answer(s) returned a deleted document`);
  if (report.staleAnswers > 0) out.push(`${report.staleAnswers} answer(s) returned a superseded version`);
  if (report.duplicateAnswers > 0) out.push(`${report.duplicateAnswers} answer(s) listed an id twice`);
  if (report.foreignAnswers > 0)
    out.push(
      `${report.foreignAnswers} answer(s) returned a text never written for that id (foreign or wrong)`,
    );
  if (report.jobViolations > 0)
    out.push(
      `${report.jobViolations} write(s) answered 202 neither applied nor reported failed by their job (or applied though failed)`,
    );
  if (report.nodeDivergence > 0)
    out.push(`${report.nodeDivergence} per-node read(s) disagree with the acknowledged state`);
  if (report.epochOrderViolations > 0)
    out.push(`${report.epochOrderViolations} change-log entr(ies) with an epoch lower than the one before`);
  if (report.unverified > 0) out.push(`${report.unverified} acknowledged write(s) could not be read back`);
  if (expect.failover === 'required' && report.failovers < (expect.minFailovers ?? 1)) {
    out.push(`expected ${expect.minFailovers ?? 1} failover(s), saw ${report.failovers}`);
  }
  if (expect.failover === 'forbidden' && report.failovers > 0)
    out.push(`expected no failover, saw ${report.failovers}`);
  return out;
}
