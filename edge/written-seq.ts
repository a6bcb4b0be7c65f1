/**
 * The newest log position this isolate has seen a write acknowledged at (the `seq` of an
 * `applied` or `replicated` write answer). Reads routed by this isolate go first to nodes known to
 * have applied it, so a client never reads, through the same isolate, a document older than a
 * write it was already told succeeded, whichever replica serves it (monotonic reads; an explicit
 * `min_seq` does the same across isolates).
 */
import { compareSeq, isStreamId, SEQ_ZERO } from '../shared/stream-id.ts';

let newest = SEQ_ZERO;

export function noteWritten(seq: unknown): void {
  if (typeof seq === 'string' && isStreamId(seq) && compareSeq(seq, newest) > 0) newest = seq;
}

export function writtenSeq(): string {
  return newest;
}

/** The later of two positions (either may be absent). */
export function laterSeq(a: string | undefined, b: string): string {
  return a !== undefined && compareSeq(a, b) >= 0 ? a : b;
}
