/**
 * What one chaos run records (searches, writes, master samples, final reads) and the report the
 * checker (checker.ts) makes of them. Types only: the load generators, the runner and the
 * checker all speak them.
 */

export interface SearchHitRecord {
  id: string;
  text: string;
}

/** One search request as the client saw it. */
export interface SearchRecord {
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  /** HTTP status; null when no answer came (connect error, client timeout). */
  status: number | null;
  /** The error code of a failed answer, or what went wrong on the client side. */
  error: string | null;
  servedBy: string | null;
  role: string | null;
  epoch: number | null;
  query: string;
  results: SearchHitRecord[] | null;
}

export type WriteOpKind = 'upsert' | 'delete';

/** One document write through the edge (`wait: "applied"`, client-given id). */
export interface WriteRecord {
  id: string;
  op: WriteOpKind;
  /** The upserted text (unique per version); null for a delete. */
  text: string | null;
  startedAt: number;
  finishedAt: number;
  /** 200 with the wait level reached: the write is acknowledged and must never be lost. */
  acked: boolean;
  status: number | null;
  error: string | null;
  /** The ingest job of a write answered 202 (accepted, not yet at the wait level): polled at the end. */
  jobId?: string | null;
}

/** What GET /api/v1/jobs/:id said of a 202 write's job after the run. */
export interface JobOutcome {
  jobId: string;
  /** 200 with a state, 404 unknown, anything else (or null) unreadable. */
  status: number | null;
  /** completed (applied on the master), failed, or still waiting / active / delayed. */
  state: string | null;
  error: string | null;
}

/** A document read after the run: through the edge, or directly on one node. */
export interface FinalRead {
  id: string;
  /** Null for a read through the edge; the node id for a direct read. */
  node: string | null;
  /** 200 found, 404 absent, anything else (or null) unreadable. */
  status: number | null;
  text: string | null;
}

/** The coordinator's view of the master over time (GET /api/v1/status, polled). */
export interface MasterSample {
  at: number;
  master: string | null;
  epoch: number;
}

export interface RunRecords {
  searches: SearchRecord[];
  /** Requests the search load did not send because too many were in flight (reported, not failures). */
  skippedSearches?: number;
  writes: WriteRecord[];
  finalReads: FinalRead[];
  /** Direct per-node searches for deleted documents' texts after the run: any hit is a resurrection. */
  finalNodeSearches?: { node: string; query: string; results: SearchHitRecord[] }[];
  /** The final state of every job a 202 write named (absent: nothing was answered 202). */
  jobs?: JobOutcome[];
  /** Epoch field of every change-log entry, in stream order (XRANGE <prefix>:log). */
  logEpochs: number[];
  masters: MasterSample[];
  /** When the fault was injected. */
  faultAt: number;
  /** Master and epoch just before the fault. */
  before: { master: string | null; epoch: number };
  /** Intervals with no healthy node at all: searches failing inside them are expected. */
  noHealthyNode: [number, number][];
}

export interface CheckOptions {
  /**
   * How long after an acknowledgement a search may still show the previous state: a write is
   * acknowledged once the MASTER applied it, and a read served by a standby may trail by a few ms.
   */
  readGraceMs?: number;
  /** How many examples of each kind of violation to keep in the report. */
  samples?: number;
}

export interface RunReport {
  searches: number;
  skippedSearches: number;
  /** Failed searches while a healthy node existed. */
  failedSearches: number;
  /** Failed searches inside a no-healthy-node interval (expected; reported for the record). */
  failedWhileNoneHealthy: number;
  /** Search hits showing a superseded version of a document. */
  staleAnswers: number;
  /** Search hits showing a document whose deletion was acknowledged. */
  deletedAnswers: number;
  /** Answers listing the same id twice. */
  duplicateAnswers: number;
  /**
   * Search hits whose text was never written for that id (another document's text, or one carrying
   * another id's version marker): a foreign or wrong answer, never explained by replication lag.
   */
  foreignAnswers: number;
  ackedWrites: number;
  unackedWrites: number;
  /** Writes answered 202 whose job completed (they must then read back like acknowledged ones). */
  jobsApplied: number;
  /** Writes answered 202 whose job reports failed (their text must never read back). */
  jobsFailed: number;
  /** Writes answered 202 whose job was neither completed nor failed at the end, or unreadable, or failed but applied. */
  jobViolations: number;
  /** Acknowledged upserts absent or superseded by an older version afterwards (through the edge). */
  lostWrites: number;
  /** Acknowledged deletes whose document is back afterwards (through the edge or any node's search). */
  resurrected: number;
  /** Final reads that could not be made (not counted as lost, but reported). */
  unverified: number;
  /** Direct per-node reads that disagree with the acknowledged state (a node that diverged). */
  nodeDivergence: number;
  /** Change-log entries whose epoch is lower than the entry before. */
  epochOrderViolations: number;
  logEntries: number;
  /** Master changes (a new epoch with a master) seen after the fault. */
  failovers: number;
  /** From the fault to the first status showing a new master at a higher epoch; null if none. */
  timeToNewMasterMs: number | null;
  /** From the fault to the end of the first successful search that started after it. */
  timeToFirstGoodAnswerMs: number | null;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  servedBy: Record<string, number>;
  examples: string[];
}
