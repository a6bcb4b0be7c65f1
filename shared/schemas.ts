/**
 * Every message the edge, the search nodes and the clients say to each other, typed once.
 *
 * Both sides import these zod schemas: the edge validates public requests with them before any
 * upstream call, the node validates the same bodies again (it never trusts the edge blindly),
 * and `/openapi.json` is generated from them. Limits live in ./constants.ts.
 */
import { z } from 'zod';
import { LIMITS } from './constants.ts';
import { MetadataScalar, SearchFilter } from './search-filter.ts';

export { SearchFilter };

const scalar = MetadataScalar;

/** Whitespace, control and format characters: a query of only these has nothing to search. */
const NOTHING_TO_SEARCH = /^[\p{White_Space}\p{Cc}\p{Cf}]*$/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * How a search ranks documents: `vector` (score: cosine similarity of the query and the document's
 * best passage: a document is indexed as passages that fit the model's window), `keyword`
 * (score: BM25 over the FTS5 keyword index, higher is better) or `hybrid`, the default (score:
 * weighted reciprocal rank fusion of the two rankings: keyword_weight / (rrf_k + keyword rank) plus
 * (1 - keyword_weight) / (rrf_k + vector rank), a list that lacks the document adding nothing).
 */
export const SearchMode = z.enum(['hybrid', 'vector', 'keyword']);
export type SearchMode = z.infer<typeof SearchMode>;

export const SearchRequest = z
  .object({
    query: z
      .string()
      .min(1, 'query must not be empty')
      .max(LIMITS.queryMaxChars, `query must be at most ${LIMITS.queryMaxChars} characters`)
      .refine((q) => !LONE_SURROGATE.test(q), 'query holds an unpaired surrogate (not valid Unicode text)')
      .refine(
        (q) => !NOTHING_TO_SEARCH.test(q),
        'query has nothing to search (only whitespace or control characters)',
      ),
    top_k: z.number().int('top_k must be an integer').min(1).max(LIMITS.topKMax).default(5),
    filter: SearchFilter.optional(),
    /** Read-your-writes: only a node that has applied this log position (a write answer's `seq`) serves. */
    min_seq: z
      .string()
      .regex(/^\d+-\d+$/, 'min_seq must be a log position like "1712345678901-0" (a write answer\'s seq)')
      .optional(),
    /** `any` (default): any in-sync node; `master`: the master serves unless it cannot answer. */
    consistency: z.enum(['any', 'master']).optional(),
    mode: SearchMode.default('hybrid'),
    /** Hybrid only: fuse by relative scores (the default) or by reciprocal rank (`rrf`). */
    fusion: z.enum(['relative', 'rrf']).optional(),
    /** Hybrid only, `rrf` fusion: the rank constant (larger flattens the ranks). */
    rrf_k: z.number().int('rrf_k must be an integer').min(1).max(1000).optional(),
    /** Hybrid only: the keyword list's share of the fused score, 0 to 1 (the vector list has the rest). */
    keyword_weight: z
      .number()
      .min(0, 'keyword_weight must be between 0 and 1')
      .max(1, 'keyword_weight must be between 0 and 1')
      .optional(),
    /**
     * Keyword and hybrid: true also searches the query words' neighbours in the model's word table
     * (where the node's model has one); the node's KEYWORD_EXPANSION setting is the default.
     */
    expand: z.boolean().optional(),
    /** false: results carry their best passage but not the document's whole text (which may be long). */
    include_text: z.boolean().default(true),
  })
  .strict();
export type SearchRequest = z.infer<typeof SearchRequest>;

/** The part of a document that matched best: its text and where it lies in the document. */
export const SearchPassage = z.object({
  text: z.string(),
  /** Offset of the passage's first character in the document's text (UTF-16 code units, as JavaScript counts). */
  start: z.number().int().min(0),
  /** One past its last character: `text === document.text.slice(start, end)`. */
  end: z.number().int().min(0),
});

/** One document (`id` is the document's id; a document appears once), with its best passage. */
export const SearchHit = z.object({
  id: z.string(),
  score: z.number(),
  /** The document's whole text; absent when the search asked `include_text: false`. */
  text: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()),
  passage: SearchPassage,
});
export type SearchHit = z.infer<typeof SearchHit>;

export const Role = z.enum(['standby', 'master', 'degraded']);
export type Role = z.infer<typeof Role>;

export const ServedBy = z.object({
  node: z.string(),
  role: Role,
  epoch: z.number().int(),
  /** The node's applied log position when it served (compare with a write's `seq`). */
  applied_seq: z.string().optional(),
});
export type ServedBy = z.infer<typeof ServedBy>;

export const SearchResponse = z.object({
  results: z.array(SearchHit),
  took_ms: z.number(),
  served_by: ServedBy,
});
export type SearchResponse = z.infer<typeof SearchResponse>;

export const DocumentId = z
  .string()
  .min(1, 'id must not be empty')
  .max(LIMITS.docIdMaxChars)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'id may hold letters, digits, and . _ : - (not first)');

export const DocumentInput = z
  .object({
    id: DocumentId,
    text: z
      .string()
      .min(1, 'text must not be empty')
      .max(LIMITS.docTextMaxChars, `text must be at most ${LIMITS.docTextMaxChars} characters`),
    metadata: z.record(z.string().min(1).max(64), scalar).optional(),
  })
  .strict();
export type DocumentInput = z.infer<typeof DocumentInput>;

export const WaitLevel = z.enum(['none', 'applied', 'replicated']);
export type WaitLevel = z.infer<typeof WaitLevel>;

export const UpsertRequest = z
  .object({
    documents: z.array(DocumentInput).min(1).max(LIMITS.docsPerRequest),
    wait: WaitLevel.default('none'),
  })
  .strict();
export type UpsertRequest = z.infer<typeof UpsertRequest>;

export const UpsertAccepted = z.object({
  job_id: z.string(),
  accepted: z.number().int(),
  status: z.enum(['queued', 'applied', 'replicated']),
  seq: z.string().optional(),
  /** Only on a 202 for a write that asked to wait: why it is not at that level yet (poll the job). */
  message: z.string().optional(),
});
export type UpsertAccepted = z.infer<typeof UpsertAccepted>;

export const JobState = z.object({
  job_id: z.string(),
  state: z.enum(['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown']),
  progress: z.number(),
  accepted: z.number().int(),
  seq: z.string().nullable(),
  error: z.string().nullable(),
});

export const StoredDocument = z.object({
  id: z.string(),
  text: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  version: z.number().int(),
  updated_seq: z.string(),
});

export const GpuTelemetry = z.object({
  util: z.number(),
  mem_used_mb: z.number(),
  mem_total_mb: z.number(),
  temp_c: z.number(),
});
export type GpuTelemetry = z.infer<typeof GpuTelemetry>;

/** Each part a search or a write needs: `ok`, or a short reason (`restarting: worker exited with code 70`). */
export const NodeParts = z.object({
  embedder: z.string(),
  index: z.string(),
  applier: z.string(),
  redis: z.string(),
  disk: z.string(),
});
export type NodeParts = z.infer<typeof NodeParts>;

/**
 * Redis as a node sees it: the topology it connects to, the role and online replicas of the master
 * that owns the change log's keys, how many of them WAIT requires, and the fence stored there
 * (null when Redis could not be asked). A fence below the node's epoch means Redis lost it.
 */
export const RedisTopologyHealth = z.object({
  kind: z.enum(['single', 'sentinel', 'cluster']),
  role: z.enum(['master', 'replica']).nullable(),
  replicas: z.number().int().nullable(),
  min_replicas_ack: z.number().int().nullable(),
  fence: z.number().int().nullable(),
});
export type RedisTopologyHealth = z.infer<typeof RedisTopologyHealth>;

/** The node's `/health`: what the coordinator's probes read. */
export const NodeHealth = z.object({
  status: z.enum(['ok', 'starting', 'degraded', 'stopping', 'failed']),
  node: z.string(),
  role: Role,
  epoch: z.number().int(),
  ready: z.boolean(),
  /** Absent from nodes older than the per-part breakdown. */
  parts: NodeParts.optional(),
  /**
   * `ok`, or why this node could not take writes as master (`redis: unreachable`, an embedder
   * down, a full disk): the coordinator fails over a master whose write path is broken.
   * Absent from older nodes.
   */
  write_path: z.string().optional(),
  /**
   * Ingest jobs that this node's writer gave up on (after every retry) since it started, and the
   * newest one: a write answered 202 that failed is never silent. Absent from older nodes.
   */
  ingest: z
    .object({
      failed_jobs: z.number().int(),
      last_failure: z.object({ job_id: z.string(), reason: z.string(), at: z.number() }).nullable(),
    })
    .optional(),
  model: z.object({ id: z.string(), loaded: z.boolean() }),
  index: z.object({ size: z.number().int(), applied_seq: z.string() }),
  replication: z
    .object({
      lag_entries: z.number().int(),
      lag_ms: z.number(),
      redis: z.enum(['up', 'down']),
      /** Absent from older nodes. */
      redis_topology: RedisTopologyHealth.optional(),
      /** Log entries this node applied with an epoch below an earlier entry's (divergence); absent when none. */
      epoch_regressions: z.number().int().optional(),
    })
    .optional(),
  gpu: GpuTelemetry.nullable(),
  load: z.object({
    inflight: z.number().int(),
    queued: z.number().int(),
    event_loop_lag_ms: z.number(),
    overloaded: z.boolean(),
  }),
});
export type NodeHealth = z.infer<typeof NodeHealth>;

/** The node's `/api/v1/info`: what it serves with (model, index), for operators and peers. */
export const NodeInfo = z.object({
  node: z.string(),
  version: z.string(),
  model: z.object({
    id: z.string(),
    /** sha256 of the ONNX file: nodes whose checksums differ must not share an index. */
    checksum: z.string(),
    dimension: z.number().int(),
    pooling: z.enum(['mean', 'cls']),
    max_length: z.number().int(),
    /** The device really used: cpu when CUDA was asked for but could not be loaded. */
    device: z.enum(['cpu', 'cuda']),
  }),
  index: z.object({
    type: z.string(),
    metric: z.literal('inner_product'),
    size: z.number().int(),
    labels: z.number().int(),
  }),
  redis_prefix: z.string(),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

const RecentError = z.object({ at: z.string(), event: z.string(), detail: z.string() });

/** The node's signed `/api/v1/diagnostics`: what a failover report keeps of the old master. */
export const NodeDiagnostics = z.object({
  node: z.string(),
  role: z.object({ role: Role, epoch: z.number().int(), master: z.string().nullable() }),
  health: NodeHealth,
  recent_errors: z.array(RecentError),
  oom_or_cuda_errors: z.array(RecentError),
  gpu_history: z.array(GpuTelemetry.extend({ at: z.number() })),
  /** process.memoryUsage() of the node, bytes. */
  memory: z.object({
    rss: z.number(),
    heapTotal: z.number(),
    heapUsed: z.number(),
    external: z.number(),
    arrayBuffers: z.number(),
  }),
  uptime_s: z.number(),
});
export type NodeDiagnostics = z.infer<typeof NodeDiagnostics>;

/** Control calls from the coordinator to a node (all signed). */
export const EpochBody = z.object({ epoch: z.number().int().min(1) }).strict();
export const StandbyBody = z
  .object({ epoch: z.number().int().min(1), master: z.string().min(1).max(64).nullable() })
  .strict();
export const ActivateResult = z.object({
  node: z.string(),
  role: Role,
  epoch: z.number().int(),
  applied_seq: z.string(),
  catch_up_ms: z.number(),
  replayed: z.number().int(),
});
export type ActivateResult = z.infer<typeof ActivateResult>;

export const RegisterNode = z
  .object({
    id: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/, 'node id may hold letters, digits, and . _ -'),
    url: z.string().url().max(512),
    priority: z.number().int().min(0).max(1000).default(100),
  })
  .strict();
export type RegisterNode = z.infer<typeof RegisterNode>;

export const SwitchoverRequest = z.object({ to: z.string().min(1).max(64).optional() }).strict();

/** The one error shape everywhere: `{"error": {"code", "message"}}`. */
export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
