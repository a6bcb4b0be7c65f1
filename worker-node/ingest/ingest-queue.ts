/**
 * Ingestion through BullMQ: the master's document endpoints enqueue a job, a worker (running only
 * on the master) embeds the documents in batches and appends them to the fenced change log.
 * Jobs live in Redis, so a job accepted before a crash or a failover is finished by whichever
 * node is master next; retries back off exponentially. The queue's prefix is braced (`{gte}`),
 * as BullMQ requires on Redis Cluster, so its keys share the change log's slot.
 */
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import {
  connectionForKey,
  connectRedis,
  type RedisClient,
  type RedisTarget,
  redisKeyPrefix,
} from '../redis-connection.ts';
import { ReplicaAck, type ReplicaAckOptions } from '../replication/redis-ack.ts';
import { RedisUnavailableError } from '../errors.ts';

export type IngestOp =
  | { op: 'upsert'; id: string; text: string; metadata: Record<string, unknown> }
  | { op: 'delete'; id: string };

export interface IngestJobData {
  ops: IngestOp[];
  accepted_at: number;
  /** Every op's version (write-path.ts); absent in jobs queued before versions were issued. */
  version?: number;
}

export interface IngestJobResult {
  seq: string;
  appended: number;
}

export type IngestProcessor = (job: Job<IngestJobData, IngestJobResult>) => Promise<IngestJobResult>;

/** Called once for a job that failed its last attempt (it stays `failed`, with the reason, in Redis). */
export type FinalFailureHandler = (job: Job<IngestJobData, IngestJobResult>, err: Error) => void;

/**
 * Whether a 'failed' event is the job's last: BullMQ emits one per failed attempt, and sets
 * finishedOn only when it moved the job to failed instead of retrying it.
 */
export function isFinalFailure(job: Pick<Job, 'finishedOn' | 'attemptsMade' | 'opts'>): boolean {
  return job.finishedOn !== undefined || job.attemptsMade >= (job.opts.attempts ?? 1);
}

const QUEUE_NAME = 'ingest';

/** How often waitFinished reads the job's state beside listening for its completion. */
const WAIT_POLL_MS = 1000;

export class IngestQueue {
  private readonly queue: Queue<IngestJobData, IngestJobResult>;
  private readonly events: QueueEvents;
  private worker: Worker<IngestJobData, IngestJobResult> | null = null;
  private readonly producer: RedisClient;
  private readonly blocking: RedisClient[] = [];
  private readonly prefix: string;
  /**
   * WAIT after each job is added: an accepted write (202 included) must survive a Redis failover
   * as much as an appended one does (redis-ack.ts).
   */
  private readonly ack: ReplicaAck;

  constructor(
    private readonly target: RedisTarget,
    prefix: string,
    ack: ReplicaAckOptions = { timeoutMs: 2000 },
  ) {
    this.prefix = redisKeyPrefix(prefix);
    // The producer fails fast (no offline queue): a write must answer 503 while Redis is down,
    // not hang until it returns.
    this.producer = connectRedis(target, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    this.producer.on('error', () => undefined);
    this.queue = new Queue(QUEUE_NAME, {
      connection: this.producer,
      prefix: this.prefix,
      defaultJobOptions: {
        attempts: 12,
        backoff: { type: 'exponential', delay: 200 },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 86_400 },
      },
    });
    this.queue.on('error', () => undefined);
    // The queue's keys share the braced prefix, so one key names the slot's master on a Cluster.
    this.ack = new ReplicaAck(() => connectionForKey(this.producer, `${this.prefix}:${QUEUE_NAME}:id`), ack);
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.blockingConnection(), prefix: this.prefix });
    this.events.on('error', () => undefined);
  }

  private blockingConnection(): RedisClient {
    const conn = connectRedis(this.target, { maxRetriesPerRequest: null });
    conn.on('error', () => undefined);
    this.blocking.push(conn);
    return conn;
  }

  get connected(): boolean {
    return this.producer.status === 'ready';
  }

  async enqueue(data: IngestJobData): Promise<Job<IngestJobData, IngestJobResult>> {
    if (!this.connected)
      throw new RedisUnavailableError(
        'Redis is unreachable: writes are refused until it is back (searches still work)',
      );
    let job: Job<IngestJobData, IngestJobResult>;
    try {
      job = await this.queue.add('documents', data);
    } catch (err) {
      throw new RedisUnavailableError(`could not enqueue the write: ${(err as Error).message}`);
    }
    // Not acknowledged (no 202, no wait) until the Redis replicas asked for hold the job.
    await this.ack.confirm();
    return job;
  }

  /**
   * Waits for the job's result (the log position of its last entry), `timeoutMs` at most.
   * BullMQ's wait listens for the job's completion event and checks the job once when it starts;
   * beside it the job's state is read every WAIT_POLL_MS, so a completion event that never
   * arrives costs that long, not the whole wait (seen once on a loaded machine with Redis Cluster:
   * a job's wait ran out its time with no notification). The deadline is this method's own:
   * BullMQ's starts only once its connections are ready.
   */
  async waitFinished(job: Job<IngestJobData, IngestJobResult>, timeoutMs: number): Promise<IngestJobResult> {
    const id = String(job.id);
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const notified = job.waitUntilFinished(this.events, timeoutMs);
    // Handled by the race below, or dropped once another way has answered.
    notified.catch(() => undefined);
    const polled = (async (): Promise<IngestJobResult> => {
      while (!settled) {
        await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
        if (settled) break;
        // While Redis is down the read fails at once (no offline queue): try again next time.
        const finished = await this.finishedState(id).catch(() => null);
        if (finished?.state === 'completed') return finished.result;
        if (finished?.state === 'failed') throw new Error(finished.reason);
      }
      return new Promise<never>(() => undefined);
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`job ${id} timed out before finishing: no result within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([notified, polled, deadline]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** A finished job's outcome as Redis holds it; null while it is not finished (or not found). */
  private async finishedState(
    id: string,
  ): Promise<{ state: 'completed'; result: IngestJobResult } | { state: 'failed'; reason: string } | null> {
    const job = await this.queue.getJob(id);
    if (!job) return null;
    const state = await job.getState();
    if (state === 'completed') return { state, result: job.returnvalue };
    if (state === 'failed') return { state, reason: job.failedReason };
    return null;
  }

  async getJob(id: string): Promise<Job<IngestJobData, IngestJobResult> | undefined> {
    return this.queue.getJob(id);
  }

  /** Starts processing (master only). Concurrency 1 keeps jobs in acceptance order. */
  startWorker(processor: IngestProcessor, onFinalFailure?: FinalFailureHandler): void {
    if (this.worker) return;
    this.worker = new Worker(QUEUE_NAME, processor, {
      connection: this.blockingConnection(),
      prefix: this.prefix,
      concurrency: 1,
      // A master killed mid-job leaves it locked; short locks let the next master take it over in seconds.
      lockDuration: 5000,
      stalledInterval: 5000,
      maxStalledCount: 5,
      // After a connection error BullMQ waits this long before fetching jobs again (15 s by
      // default): a Redis failover or restart would hold every write that long after Redis is back.
      runRetryDelay: 250,
    });
    this.worker.on('error', () => undefined);
    this.worker.on('failed', (job, err) => {
      if (job && isFinalFailure(job)) onFinalFailure?.(job, err);
    });
  }

  async stopWorker(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.close();
  }

  async counts(): Promise<{ waiting: number; active: number; delayed: number; failed: number }> {
    if (!this.connected) return { waiting: 0, active: 0, delayed: 0, failed: 0 };
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
  }

  async close(): Promise<void> {
    await this.stopWorker();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.producer.disconnect();
    for (const c of this.blocking) c.disconnect();
  }
}
