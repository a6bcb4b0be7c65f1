/**
 * Redis Stream ids (`<ms>-<seq>`) as log positions, read the same way by the edge (which ranks
 * standbys by the applied position their /health reports) and by the node (apply, trim, lag).
 *
 * Each part is a 64-bit unsigned integer, so ids are parsed as BigInt: a JavaScript number loses
 * precision past 2^53, and a string compare puts "10-0" before "9-0". "0-0" is the position
 * before the first entry.
 *
 * Malformed ids (anything but two decimal parts each within 64 bits, e.g. "", "5", "1-x", "-1-0")
 * have ONE behaviour: they order before every valid id ("0-0" included) and equal to each other;
 * they have no time (seqTimeMs answers NaN). Not a throw, on purpose: the ids compared here come
 * from other processes (a node's /health, the `{gte}:applied` hash every node writes), and one bad
 * value must not stop the coordinator's probe loop or a node's apply loop. Ordering it first is
 * the safe side everywhere: a node reporting garbage is never ranked freshest for promotion, and
 * trimming, which keeps everything above the lowest applied position, never trims past it.
 */

/** The position before the first entry. */
export const SEQ_ZERO = '0-0';

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

/** The largest value either part of a stream id can take (an unsigned 64-bit integer). */
export const MAX_STREAM_PART = (1n << 64n) - 1n;
const MAX_U64 = MAX_STREAM_PART;
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

/** The two parts of a well-formed id, or null for a malformed one (see the file comment). */
export function parseStreamId(id: string): StreamId | null {
  const m = STREAM_ID.exec(id);
  if (!m) return null;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  return ms <= MAX_U64 && seq <= MAX_U64 ? { ms, seq } : null;
}

export function isStreamId(id: string): boolean {
  return parseStreamId(id) !== null;
}

/** -1 when a < b, 0 when equal, 1 when a > b; malformed ids order first. */
export function compareSeq(a: string, b: string): -1 | 0 | 1 {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

/** Milliseconds of the entry's append time, taken from its id; NaN for a malformed id. */
export function seqTimeMs(id: string): number {
  const parsed = parseStreamId(id);
  return parsed ? Number(parsed.ms) : Number.NaN;
}
