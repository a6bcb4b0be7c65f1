/**
 * Redis Stream ids ("<ms>-<n>") as log positions. "0-0" is the position before the first entry.
 * They compare as (ms, n) pairs, never as strings ("10-0" > "9-0").
 */

export const SEQ_ZERO = '0-0';

export function parseSeq(seq: string): [number, number] {
  const dash = seq.indexOf('-');
  if (dash < 0) return [Number(seq), 0];
  return [Number(seq.slice(0, dash)), Number(seq.slice(dash + 1))];
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareSeq(a: string, b: string): number {
  const [am, an] = parseSeq(a);
  const [bm, bn] = parseSeq(b);
  return am !== bm ? am - bm : an - bn;
}

export function maxSeq(a: string, b: string): string {
  return compareSeq(a, b) >= 0 ? a : b;
}

/** Milliseconds of the entry's append time, taken from its id. */
export function seqTimeMs(seq: string): number {
  return parseSeq(seq)[0];
}
