/**
 * The interfaces the search node's parts are passed in behind. The real classes (ChangeLog,
 * IngestQueue, SearchEngine, Applier, GpuMonitor) satisfy them as they are; main.ts builds those,
 * and the unit tests pass in-memory fakes, so the whole node runs without Redis, FAISS or ONNX.
 */
import type { Embedder } from './embedder/index.ts';
import type { SearchEngine } from './engine.ts';
import type { IngestQueue } from './ingest/ingest-queue.ts';
import type { MetadataStore } from './metadata/store.ts';
import type { Applier } from './replication/applier.ts';
import type { ChangeLog } from './replication/change-log.ts';
import type { DiskProbe } from './telemetry/disk.ts';
import type { GpuMonitor } from './telemetry/gpu.ts';

/** The fenced change log, as the node's control, write and housekeeping paths use it. */
export type ChangeLogPort = Pick<
  ChangeLog,
  | 'connected'
  | 'fence'
  | 'takeFence'
  | 'issueVersion'
  | 'append'
  | 'appliedPositions'
  | 'registerNode'
  | 'unregisterNode'
  | 'registeredNodes'
  | 'trimmedThrough'
  | 'trim'
>;

/** The BullMQ ingest queue: jobs in, a worker on the master, job state for /api/v1/jobs. */
export type IngestQueuePort = Pick<
  IngestQueue,
  'connected' | 'enqueue' | 'waitFinished' | 'getJob' | 'startWorker' | 'stopWorker' | 'counts' | 'close'
>;

/** The local data: SQLite store plus vector index, at one log position. */
export type ReplicaEngine = Pick<
  SearchEngine,
  | 'appliedSeq'
  | 'size'
  | 'indexSize'
  | 'factory'
  | 'apply'
  | 'search'
  | 'snapshot'
  | 'close'
  | 'health'
  | 'crashIndex'
> & {
  readonly store: Pick<
    MetadataStore,
    'getDocument' | 'backupTo' | 'getState' | 'setState' | 'maxWriteVersion'
  >;
};

/** Follows the log into one engine; a resync replaces both together. */
export type ApplierPort = Pick<
  Applier,
  | 'start'
  | 'stop'
  | 'lag'
  | 'stalledMs'
  | 'redisState'
  | 'needsResync'
  | 'checkTrimmed'
  | 'catchUp'
  | 'waitForApplied'
>;

export type GpuPort = Pick<GpuMonitor, 'latest' | 'history' | 'start' | 'stop'>;

/** The embedder as the node's search and write paths use it. */
export type EmbedderPort = Pick<
  Embedder,
  'info' | 'passages' | 'embed' | 'embedTimed' | 'stats' | 'health' | 'close'
>;

/** The data directory's periodic write probe (telemetry/disk.ts). */
export type DiskPort = Pick<DiskProbe, 'state' | 'start' | 'stop'>;
