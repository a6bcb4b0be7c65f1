/**
 * The search node's settings, read from environment variables and validated once at start-up.
 * A bad value stops the process with a message naming the variable and what it accepts.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { type RedisTarget, RedisSettingError, redisTargetFromEnv } from './redis-connection.ts';
import { DEFAULT_FUSION, DEFAULT_KEYWORD_WEIGHT, DEFAULT_RRF_K } from './keyword/fusion.ts';
import { DEFAULT_SECTION_WEIGHT } from './metadata/keyword-tables.ts';

const bool = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * HNSW's candidate list while searching (recall against speed) and while building. Ignored by a
 * Flat index. Both default to 128, not FAISS's 16 and 40: at 1,000,000 × 384-d a graph built
 * with 40 never passed recall@10 0.936 at any efSearch, one built with 128 answers 0.998 at
 * efSearch 128, 200× faster than the exact scan, for a build 1.3× as long (BENCHMARKS.md,
 * hnsw-scale and its notes).
 */
const HnswSchema = z.object({
  HNSW_EF_SEARCH: int(1, 65_536).default(128),
  HNSW_EF_CONSTRUCTION: int(1, 65_536).default(128),
});

/** The HNSW settings in `env` (the vector index reads them; loadConfig has validated them at start). */
export function hnswFromEnv(env: NodeJS.ProcessEnv): { efSearch: number; efConstruction: number } {
  const parsed = HnswSchema.parse(env);
  return { efSearch: parsed.HNSW_EF_SEARCH, efConstruction: parsed.HNSW_EF_CONSTRUCTION };
}

/**
 * The nice value of the node's compute threads (ONNX Runtime, FAISS, the keyword reader); the
 * event loop keeps the process's. 0 runs them at the event loop's priority.
 */
const ThreadNiceSchema = z.object({ WORKER_THREAD_NICE: int(0, 19).default(0) });

/** WORKER_THREAD_NICE in `env` (read by each compute thread; loadConfig has validated it at start). */
export function threadNiceFromEnv(env: NodeJS.ProcessEnv): number {
  return ThreadNiceSchema.parse(env).WORKER_THREAD_NICE;
}

const EnvSchema = z.object({
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1..64)')
    .default('node-1'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8081),
  /** What peers and the coordinator reach this node at; required when HOST is 0.0.0.0 or ::. */
  ADVERTISE_URL: z
    .string()
    .url('an http:// or https:// URL, e.g. http://10.0.0.5:8081')
    .regex(/^https?:\/\//, 'an http:// or https:// URL, e.g. http://10.0.0.5:8081')
    .optional(),
  DATA_DIR: z.string().min(1).default('.gte/data/node-1'),
  MODEL_DIR: z.string().min(1).default('.gte/models/glove-100d-demo'),
  EMBED_DEVICE: z.enum(['cpu', 'cuda']).default('cpu'),
  EMBED_THREADS: int(1, 64).optional(),
  EMBED_BATCHING: bool.default(true),
  EMBED_MAX_BATCH_TOKENS: int(64, 1_000_000).default(8192),
  EMBED_MAX_QUEUE: int(1, 100_000).default(512),
  /** Threads ranking keyword queries, each on its own read-only connection (default: up to 2 cores' worth). */
  KEYWORD_READERS: int(1, 16).optional(),
  /**
   * Tokens shared by consecutive passages of a long document, so a sentence cut at a passage's
   * edge is whole in one of them. At most half a passage (the embedder checks it against the model).
   */
  PASSAGE_OVERLAP_TOKENS: int(0, 256).default(32),
  /** Hybrid searches that do not set `fusion` / `rrf_k` / `keyword_weight` use these (keyword/fusion.ts). */
  HYBRID_FUSION: z.enum(['relative', 'rrf']).default(DEFAULT_FUSION),
  HYBRID_RRF_K: int(1, 1000).default(DEFAULT_RRF_K),
  HYBRID_KEYWORD_WEIGHT: z.coerce.number().min(0).max(1).default(DEFAULT_KEYWORD_WEIGHT),
  /** Keyword and hybrid searches that do not set `expand` also search the query words' neighbours. */
  KEYWORD_EXPANSION: bool.default(false),
  /** How much a document's best keyword section counts beside its whole text; 0 reads no sections. */
  KEYWORD_SECTION_WEIGHT: z.coerce.number().min(0).max(100).default(DEFAULT_SECTION_WEIGHT),
  INDEX_FACTORY: z
    .string()
    .regex(/^(Flat|HNSW\d+)$/, '"Flat" or "HNSW<M>", e.g. HNSW32')
    .default('Flat'),
  ...HnswSchema.shape,
  ...ThreadNiceSchema.shape,
  /** Where Redis is: REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_MASTER, or REDIS_CLUSTER_NODES (redis-connection.ts). */
  REDIS_URL: z.string().optional(),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_MASTER: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  /** Redis replicas WAIT must confirm before a write or a fence raise counts; unset: 1 if the master has any. */
  REDIS_MIN_REPLICAS_ACK: int(0, 16).optional(),
  REDIS_WAIT_TIMEOUT_MS: int(10, 60_000).default(2000),
  REDIS_PREFIX: z
    .string()
    .regex(
      /^([A-Za-z0-9:_-]{1,64}|\{[A-Za-z0-9:_-]{1,64}\})$/,
      'letters, digits, : _ - (keys go under {PREFIX})',
    )
    .default('gte'),
  CLUSTER_SECRET: z
    .string()
    .min(16, 'at least 16 characters (generate one with `openssl rand -hex 32`)')
    .default('dev-cluster-secret-change-me'),
  SNAPSHOT_INTERVAL_MS: int(1000, 86_400_000).default(30_000),
  /** A node further behind the log than either bound serves no reads (503 lagging, not ready). */
  READ_MAX_LAG_ENTRIES: int(0, 10_000_000).default(1000),
  READ_MAX_LAG_MS: int(0, 86_400_000).default(1000),
  /** The log tail is ahead and nothing was applied for this long: the applier is stuck. */
  APPLIER_STALL_MS: int(100, 86_400_000).default(10_000),
  OVERLOAD_INFLIGHT: int(1, 100_000).default(256),
  OVERLOAD_LOOP_LAG_MS: int(1, 60_000).default(200),
  FAULT_INJECTION: bool.default(false),
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type NodeConfig = z.infer<typeof EnvSchema> & {
  dataDir: string;
  modelDir: string;
  redis: RedisTarget;
};

/** Addresses that mean "every interface": fine to listen on, meaningless to advertise. */
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']);

function isWildcard(host: string): boolean {
  return WILDCARD.has(host.toLowerCase());
}

/**
 * Why these settings cannot say where peers reach this node, or null: a wildcard HOST needs
 * ADVERTISE_URL, and ADVERTISE_URL itself must name a concrete host.
 */
export function advertiseProblem(cfg: Pick<NodeConfig, 'HOST' | 'ADVERTISE_URL'>): string | null {
  if (cfg.ADVERTISE_URL !== undefined) {
    const host = new URL(cfg.ADVERTISE_URL).hostname;
    if (isWildcard(host))
      return `invalid setting ADVERTISE_URL=${JSON.stringify(cfg.ADVERTISE_URL)}: peers cannot reach ${host}; name this node's own address`;
    return null;
  }
  if (isWildcard(cfg.HOST))
    return `missing setting ADVERTISE_URL: HOST=${cfg.HOST} listens on every interface, so set ADVERTISE_URL to the URL peers and the coordinator reach this node at (e.g. http://10.0.0.5:8081)`;
  return null;
}

/** The URL this node registers and reports: ADVERTISE_URL, else http://HOST:PORT (the bound port). */
export function advertiseUrl(cfg: Pick<NodeConfig, 'HOST' | 'ADVERTISE_URL'>, port: number): string {
  if (cfg.ADVERTISE_URL !== undefined) return cfg.ADVERTISE_URL.replace(/\/+$/, '');
  const host = cfg.HOST.includes(':') && !cfg.HOST.startsWith('[') ? `[${cfg.HOST}]` : cfg.HOST;
  return `http://${host}:${port}`;
}

/** Parses `env`; on a bad value prints which variable is wrong and what it accepts, then exits 2. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const parsed = EnvSchema.safeParse(env);
  // Where Redis is, judged on the raw settings so that its mistake is named with all the others.
  let redis: RedisTarget | null = null;
  let redisProblem: RedisSettingError | null = null;
  try {
    redis = redisTargetFromEnv(env);
  } catch (err) {
    if (!(err instanceof RedisSettingError)) throw err;
    redisProblem = err;
  }
  if (!parsed.success || !redis) {
    const issues: { path: PropertyKey[]; message: string }[] = parsed.success ? [] : [...parsed.error.issues];
    if (redisProblem) issues.push({ path: [redisProblem.setting], message: redisProblem.message });
    for (const issue of issues) {
      const name = issue.path.map(String).join('.');
      // Name the variable and echo what was read, except a secret's value (logs are widely readable);
      // a count of tokens (PASSAGE_OVERLAP_TOKENS) is no secret.
      const shown = /SECRET|PASSWORD|TOKEN(?!S)/.test(name) ? '(hidden)' : JSON.stringify(env[name] ?? '');
      process.stderr.write(`invalid setting ${name}=${shown}: ${issue.message}\n`);
    }
    process.exit(2);
  }
  const cfg = parsed.data;
  if (cfg.FAULT_INJECTION && cfg.NODE_ENV === 'production') {
    process.stderr.write(
      'invalid setting FAULT_INJECTION=1: fault injection is refused when NODE_ENV=production\n',
    );
    process.exit(2);
  }
  if (cfg.NODE_ENV === 'production' && cfg.CLUSTER_SECRET === 'dev-cluster-secret-change-me') {
    process.stderr.write(
      'invalid setting CLUSTER_SECRET: set a real secret in production (openssl rand -hex 32)\n',
    );
    process.exit(2);
  }
  const advertise = advertiseProblem(cfg);
  if (advertise) {
    process.stderr.write(`${advertise}\n`);
    process.exit(2);
  }
  return { ...cfg, redis: redis!, dataDir: resolve(cfg.DATA_DIR), modelDir: resolve(cfg.MODEL_DIR) };
}
