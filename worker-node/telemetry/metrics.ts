/** The node's Prometheus metrics (prom-client, one registry per node process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createNodeMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gte_node_process_' });
  return {
    registry,
    requests: new Counter({
      name: 'gte_node_requests_total',
      help: 'HTTP requests by route and outcome',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'gte_node_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: 'gte_node_search_stage_seconds',
      help: 'Search time split by stage: queue (waiting for an embed batch), embed, search (FAISS), metadata (SQLite)',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    embedBatchSize: new Histogram({
      name: 'gte_node_embed_batch_size',
      help: 'Texts per embedding session run',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    embedQueue: new Gauge({
      name: 'gte_node_embed_queue',
      help: 'Texts waiting for the embedder',
      registers: [registry],
    }),
    indexSize: new Gauge({
      name: 'gte_node_index_size',
      help: 'Live documents in the index',
      registers: [registry],
    }),
    appliedSeqMs: new Gauge({
      name: 'gte_node_applied_seq_ms',
      help: 'Append time (ms since epoch) of the last applied log entry',
      registers: [registry],
    }),
    lagEntries: new Gauge({
      name: 'gte_node_replication_lag_entries',
      help: 'Log entries not yet applied',
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'gte_node_replication_lag_seconds',
      help: 'Age of the oldest unapplied log entry',
      registers: [registry],
    }),
    appliedEntries: new Counter({
      name: 'gte_node_applied_entries_total',
      help: 'Log entries applied',
      registers: [registry],
    }),
    epochRegressions: new Counter({
      name: 'gte_node_log_epoch_regressions_total',
      help: 'Log entries applied whose epoch was below an earlier entry (the fence went back: divergence)',
      registers: [registry],
    }),
    epoch: new Gauge({ name: 'gte_node_epoch', help: 'The epoch this node serves', registers: [registry] }),
    isMaster: new Gauge({
      name: 'gte_node_is_master',
      help: '1 while this node is master',
      registers: [registry],
    }),
    ingestJobsFailed: new Counter({
      name: 'gte_node_ingest_jobs_failed_total',
      help: 'Ingest jobs that failed their last attempt on this node (the write is reported failed, not applied)',
      registers: [registry],
    }),
    ingestJobs: new Gauge({
      name: 'gte_node_ingest_jobs',
      help: 'BullMQ ingest jobs by state',
      labelNames: ['state'],
      registers: [registry],
    }),
  };
}
export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
