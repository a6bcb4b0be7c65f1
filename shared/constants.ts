/** Limits and names that both sides must agree on. */

export const LIMITS = {
  queryMaxChars: 2048,
  topKMax: 100,
  docIdMaxChars: 256,
  docTextMaxChars: 100_000,
  docsPerRequest: 256,
  /** Bodies over this are refused with 413 before they are parsed. */
  maxBodyBytes: 2 * 1024 * 1024,
  maxSearchBodyBytes: 64 * 1024,
} as const;

export const HEADERS = {
  epoch: 'x-gte-epoch',
  servedBy: 'x-served-by',
  attempts: 'x-gte-attempts',
  requestId: 'x-request-id',
  signature: 'x-gte-signature',
  timestamp: 'x-gte-timestamp',
  nonce: 'x-gte-nonce',
  node: 'x-gte-node',
  /** The serving node's applied log position (the same as served_by.applied_seq). */
  appliedSeq: 'x-gte-applied-seq',
  /** `1` when the edge sent this read to a second node because the first was slow. */
  hedged: 'x-gte-hedged',
  /** `stale; age=<ms>` when the edge routed from its last good table (the coordinator did not answer). */
  routing: 'x-gte-routing',
  /**
   * On a search with min_seq: how long (ms) a standby may wait for its applier to reach it before
   * it answers 409 `behind` (the master waits on its own; the node caps it at MIN_SEQ_WAIT_MS).
   */
  minSeqWait: 'x-gte-min-seq-wait-ms',
} as const;

/**
 * The longest a node waits for its applier to reach a search's min_seq: the master on its own
 * writes, a standby when the edge asks it to (x-gte-min-seq-wait-ms, capped at this).
 */
export const MIN_SEQ_WAIT_MS = 1000;

/** A signed control call whose timestamp is further than this from the receiver's clock is refused. */
export const SIGNATURE_MAX_SKEW_MS = 30_000;

/**
 * How long a search node waits for a write to reach its wait level (applied, replicated) before
 * it answers 504 `wait_timeout`: the write is accepted and its job goes on. The edge's own write
 * timeout is longer (edge/upstream.ts), so that this answer reaches it instead of an abort.
 */
export const WRITE_WAIT_MS = 30_000;
