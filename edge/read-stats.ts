/**
 * What this isolate has seen of each node on the read path: requests in flight, a decayed
 * latency average and the applied position its last answer reported, the inputs of router.ts
 * readOrder. Module-level like routing-cache.ts: it
 * outlives a request, and each isolate balances on its own view (no coordination needed for
 * power of two choices).
 *
 * The average decays towards zero while a node gets no reads, so a node that was slow and then
 * avoided is tried again after a while (the hedge bounds what that costs).
 */
import type { NodeLoad } from './router.ts';

/** Weight of a new sample in the average. */
const ALPHA = 0.3;
/** Without samples, a node's remembered latency halves every this many ms. */
const HALF_LIFE_MS = 5_000;

interface Entry {
  outstanding: number;
  latencyMs: number | null;
  at: number;
}

const entries = new Map<string, Entry>();

function entry(id: string): Entry {
  let e = entries.get(id);
  if (!e) {
    e = { outstanding: 0, latencyMs: null, at: 0 };
    entries.set(id, e);
  }
  return e;
}

function decayed(e: Entry, now: number): number | null {
  if (e.latencyMs === null) return null;
  return e.latencyMs * 0.5 ** (Math.max(0, now - e.at) / HALF_LIFE_MS);
}

export function attemptStarted(id: string): void {
  entry(id).outstanding++;
}

/**
 * An attempt ended. `latencyMs` is how long it took (for an attempt cancelled by a faster hedge,
 * how long it had run: the node was at least that slow); null when it says nothing of latency
 * (a refused connection).
 */
export function attemptFinished(id: string, latencyMs: number | null, now = Date.now()): void {
  const e = entry(id);
  e.outstanding = Math.max(0, e.outstanding - 1);
  if (latencyMs === null) return;
  const previous = decayed(e, now);
  e.latencyMs = previous === null ? latencyMs : previous + ALPHA * (latencyMs - previous);
  e.at = now;
}

export function nodeLoad(id: string, now = Date.now()): NodeLoad {
  const e = entries.get(id);
  if (!e) return { outstanding: 0, latencyMs: null };
  return { outstanding: e.outstanding, latencyMs: decayed(e, now) };
}

/** Each node's applied position as its latest answer reported it (x-gte-applied-seq), and when. */
const positions = new Map<string, { seq: string; at: number }>();

export function noteApplied(id: string, seq: string | null, now = Date.now()): void {
  if (seq) positions.set(id, { seq, at: now });
}

/** What `id` last reported of its position, when that came after `since` (else undefined). */
export function appliedSince(id: string, since: number): string | undefined {
  const p = positions.get(id);
  return p && p.at > since ? p.seq : undefined;
}

/** Tests only: forget everything. */
export function resetReadStats(): void {
  entries.clear();
  positions.clear();
}
