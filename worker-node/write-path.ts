/**
 * The master's write path: admit a write (master only, stamped with this epoch), enqueue it as a
 * BullMQ job, and answer at the wait level asked for (none: queued; applied: applied here;
 * replicated: applied by a standby too). The job processor, on the master only, embeds the
 * documents in batches and appends them to the fenced change log under the node's epoch; a
 * refused append (the fence moved on) makes the node step down; a fence that fell back below the
 * epoch (Redis lost it) only refuses writes until it is raised again. A document is embedded as
 * passages that fit the model's window (embedder/passages.ts), all of them in its one log entry, so
 * the nodes that apply it never embed anything.
 *
 * Versions: a write gets its version when it is accepted (ChangeLog.issueVersion: above every
 * version issued before, through any master, and above what this node has applied, so it holds
 * even when Redis lost its keys), and the job carries it, so it stays the same when the job is
 * retried (by this master or the next). A retried job that re-appends a write after a newer write
 * of the same id was acknowledged is then skipped by every node (metadata/store.ts applies a
 * version only over an older one). Jobs queued before versions were issued use their BullMQ id.
 */
import type { Job } from 'bullmq';
import type { WaitLevel } from '../shared/schemas.ts';
import type { Embedder } from './embedder/index.ts';
import { ApiError } from '../shared/http-body.ts';
import { EpochRefusedError, FenceBehindError, RedisUnavailableError, WaitTimeoutError } from './errors.ts';
import type { IngestJobData, IngestJobResult, IngestOp } from './ingest/ingest-queue.ts';
import type { EmbeddedPassage } from './metadata/store.ts';
import type { NodeLogger } from './log.ts';
import type { ChangeLogPort, IngestQueuePort } from './parts.ts';
import { type LogOp, StaleEpochError } from './replication/change-log.ts';
import { compareSeq } from '../shared/stream-id.ts';
import type { RoleControl } from './role-control.ts';
import { writeAllowed } from './roles.ts';

const EMBED_BATCH = 64;
const REPLICATED_POLL_MS = 10;

export interface WriteAnswer {
  job_id: string;
  accepted: number;
  status: 'queued' | 'applied' | 'replicated';
  seq?: string;
}

export interface WritePathOptions {
  nodeId: string;
  log: ChangeLogPort;
  queue: IngestQueuePort;
  roles: RoleControl;
  embedder: Pick<Embedder, 'passages' | 'embed' | 'info'>;
  /** The local replica: where the master's own writes are applied (through the log). */
  replica: {
    readonly appliedSeq: string;
    readonly maxWriteVersion: number;
    waitForApplied(seq: string, timeoutMs: number): Promise<void>;
  };
  logger: NodeLogger;
}

export class WritePath {
  constructor(private readonly opts: WritePathOptions) {}

  /** 409 unless this node is master and the write is stamped (`x-gte-epoch`) with its epoch. */
  admit(epochHeader: string | undefined): void {
    const epoch = epochHeader !== undefined && /^\d+$/.test(epochHeader) ? Number(epochHeader) : null;
    const allowed = writeAllowed(this.opts.roles.current, epoch);
    if (!allowed.ok) throw new ApiError(409, allowed.code, allowed.message);
  }

  /** Enqueues upserts/deletes; with a wait level, answers once that level is reached. */
  async write(
    ops: IngestOp[],
    wait: WaitLevel,
    { timeoutMs = 30_000, logger = this.opts.logger }: { timeoutMs?: number; logger?: NodeLogger } = {},
  ): Promise<WriteAnswer> {
    // A master that was deposed without hearing of it learns it here: the fence moved on.
    const fence = await this.opts.log.fence().catch(() => {
      throw new RedisUnavailableError(
        'Redis is unreachable: writes are refused until it is back (searches still work)',
      );
    });
    const epoch = this.opts.roles.current.epoch;
    if (fence < epoch) throw new FenceBehindError(epoch, fence);
    if (fence !== epoch) {
      const err = new StaleEpochError(epoch, fence);
      await this.opts.roles.stepDown(err, logger);
      throw new EpochRefusedError(err.message);
    }
    const version = await this.opts.log
      .issueVersion(this.opts.replica.maxWriteVersion)
      .catch((err: Error) => {
        throw new RedisUnavailableError(`could not give the write a version: ${err.message}`);
      });
    const job = await this.opts.queue.enqueue({ ops, accepted_at: Date.now(), version });
    const jobId = String(job.id);
    const base = { job_id: jobId, accepted: ops.length };
    if (wait === 'none') return { ...base, status: 'queued' };
    const deadline = Date.now() + timeoutMs;
    let result: IngestJobResult;
    try {
      result = await this.opts.queue.waitFinished(job, timeoutMs);
    } catch (err) {
      throw new WaitTimeoutError(
        'wait_timeout',
        `job ${jobId} accepted but not finished within ${timeoutMs} ms (${(err as Error).message}); poll /api/v1/jobs/${jobId}`,
      );
    }
    await this.opts.replica.waitForApplied(result.seq, Math.max(1, deadline - Date.now())).catch(() => {
      throw new WaitTimeoutError(
        'wait_timeout',
        `job ${jobId} appended at ${result.seq} but not applied here in time; poll /api/v1/jobs/${jobId}`,
      );
    });
    if (wait === 'applied') return { ...base, status: 'applied', seq: result.seq };
    await this.waitReplicated(result.seq, deadline, jobId);
    return { ...base, status: 'replicated', seq: result.seq };
  }

  /** Resolves once at least one other registered node has applied `seq`. */
  private async waitReplicated(seq: string, deadline: number, jobId: string): Promise<void> {
    while (Date.now() < deadline) {
      const applied = await this.opts.log.appliedPositions();
      const self = this.opts.nodeId;
      if (Object.entries(applied).some(([node, pos]) => node !== self && compareSeq(pos, seq) >= 0)) return;
      await new Promise((r) => setTimeout(r, REPLICATED_POLL_MS));
    }
    throw new WaitTimeoutError(
      'not_replicated',
      `job ${jobId} applied on the master at ${seq} but no standby applied it in time; is a standby running?`,
    );
  }

  /** The BullMQ processor: embed in batches, append under this node's epoch. */
  readonly processJob = async (
    job: Pick<Job<IngestJobData, IngestJobResult>, 'id' | 'data' | 'updateProgress'>,
  ): Promise<IngestJobResult> => {
    const { ops } = job.data;
    const { embedder, roles, log } = this.opts;
    const version = job.data.version ?? jobVersion(job.id);
    let seq = this.opts.replica.appliedSeq;
    for (let i = 0; i < ops.length; i += EMBED_BATCH) {
      const chunk = ops.slice(i, i + EMBED_BATCH);
      const upserts = chunk.filter((o): o is Extract<IngestOp, { op: 'upsert' }> => o.op === 'upsert');
      const embedded = await embedPassages(embedder, upserts);
      let u = 0;
      const logOps: LogOp[] = chunk.map((o) =>
        o.op === 'upsert' ? { ...o, passages: embedded[u++]!, version } : { ...o, version },
      );
      const role = roles.current;
      if (role.role !== 'master')
        throw new Error(
          `node ${this.opts.nodeId} is no longer master; the job is retried by the next master`,
        );
      try {
        const ids = await log.append(role.epoch, embedder.info.id, logOps, this.opts.nodeId);
        seq = ids[ids.length - 1] ?? seq;
      } catch (err) {
        // Not awaited: a degrade queued before the step-down waits for this very job to end.
        if (err instanceof StaleEpochError && err.deposed) void roles.stepDown(err).catch(() => undefined);
        throw err;
      }
      await job.updateProgress(Math.round(((i + chunk.length) / ops.length) * 100));
    }
    return { seq, appended: ops.length };
  };
}

/**
 * Each document's passages with their vectors. Passages are embedded EMBED_BATCH at a time: one
 * long document may hold hundreds, more than the embedder's queue takes in one call.
 */
async function embedPassages(
  embedder: WritePathOptions['embedder'],
  docs: readonly { text: string }[],
): Promise<EmbeddedPassage[][]> {
  if (docs.length === 0) return [];
  const spans = await embedder.passages(docs.map((d) => d.text));
  const texts = spans.flatMap((own, i) => own.map((s) => docs[i]!.text.slice(s.start, s.end)));
  const vectors: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH)
    vectors.push(...(await embedder.embed(texts.slice(i, i + EMBED_BATCH))));
  let v = 0;
  return spans.map((own) => own.map((s) => ({ ...s, vector: vectors[v++]! })));
}

/** The version of a job queued before versions were issued at acceptance: its BullMQ id. */
export function jobVersion(id: string | undefined): number {
  if (id === undefined || !/^[1-9]\d{0,15}$/.test(id))
    throw new Error(
      `ingest job id ${JSON.stringify(id)} is not a queue counter value; cannot version its writes`,
    );
  return Number(id);
}
