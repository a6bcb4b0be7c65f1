/**
 * The write load of a chaos run: inserts, updates and deletes through the edge at a bounded
 * rate, one op at a time per document id, every op recorded (records.ts) for the checker. See
 * load.ts for the search load and what "bounded" means for both.
 */
import type { WaitLevel as SharedWaitLevel } from '../../shared/schemas.ts';
import { errorCode, readBody } from './load.ts';
import type { WriteRecord } from './records.ts';

export interface WriteLoadOptions {
  edgeUrl: string;
  adminToken: string;
  /** Prefix of every document id this load writes (unique per run). */
  tag: string;
  /** Texts documents are made from (each version gets a unique suffix). */
  baseTexts: string[];
  /** Ops per second over all writers. */
  ratePerSec?: number;
  /** Writers working at once (each waits for its own answer). */
  concurrency?: number;
  /** Share of inserts, updates and deletes; updates and deletes pick a live document. */
  mix?: { insert: number; update: number; delete: number };
  /**
   * Wait levels the writes ask for, taken in turn (default: `applied` only). `replicated` is
   * acknowledged only once every standby has applied the write as well.
   */
  waits?: WaitLevel[];
  timeoutMs?: number;
  maxDurationMs?: number;
  random?: () => number;
}

export interface TrackedDocument {
  id: string;
  /** The base text (a good query for it). */
  base: string;
  /** Deleted, with the delete acknowledged. */
  deleted: boolean;
  version: number;
}

export interface WriteLoad {
  records: WriteRecord[];
  /** Documents with at least one acknowledged op (tainted ones excluded). */
  tracked(): TrackedDocument[];
  /** A query that should find a written (or deleted) document, for the search load to mix in. */
  probeQuery(): string | null;
  /**
   * Heavy updates of the same ids beside the steady load: `docs` new documents, then every one of
   * them upserted again `rounds` times, `batch` documents a request, `parallel` requests at once.
   * Recorded like every other write (one record per document); a document whose write was not
   * acknowledged is left alone after it. Resolves with how many document writes were acknowledged.
   */
  burst(o: { docs: number; rounds: number; batch?: number; parallel?: number }): Promise<number>;
  stop(): Promise<WriteRecord[]>;
}

/** The wait levels that acknowledge a write (`none` only queues it). */
export type WaitLevel = Exclude<SharedWaitLevel, 'none'>;

/**
 * One write through the edge, as one record per document (an upsert may carry several: they share
 * the outcome). Never throws.
 */
async function writeOnce(
  opts: WriteLoadOptions,
  op: 'upsert' | 'delete',
  docs: { id: string; text: string | null }[],
  wait: WaitLevel = 'applied',
): Promise<WriteRecord[]> {
  const startedAt = Date.now();
  const record = (outcome: Pick<WriteRecord, 'acked' | 'status' | 'error' | 'jobId'>): WriteRecord[] =>
    docs.map(({ id, text }) => ({ id, op, text, startedAt, finishedAt: Date.now(), ...outcome }));
  const id = docs[0]!.id;
  const headers: Record<string, string> = { authorization: `Bearer ${opts.adminToken}` };
  try {
    const init: RequestInit =
      op === 'upsert'
        ? {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({
              documents: docs.map((d) => ({ id: d.id, text: d.text, metadata: { chaos: opts.tag } })),
              wait,
            }),
          }
        : { method: 'DELETE', headers };
    const path =
      op === 'upsert' ? '/api/v1/documents' : `/api/v1/documents/${encodeURIComponent(id)}?wait=${wait}`;
    const res = await fetch(`${opts.edgeUrl}${path}`, {
      ...init,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 40_000),
    });
    const body = (await readBody(res)) as { status?: string; job_id?: string };
    // `replicated` is the stronger answer: it acknowledges a write that asked for `applied` too.
    const acked =
      res.status === 200 && (body?.status === wait || (wait === 'applied' && body?.status === 'replicated'));
    return record({
      acked,
      status: res.status,
      // Accepted but not applied in time: the job says later whether it was (runner.ts polls it).
      jobId: res.status === 202 && typeof body?.job_id === 'string' ? body.job_id : null,
      error: acked ? null : (errorCode(body) ?? `HTTP ${res.status} ${body?.status ?? ''}`.trim()),
    });
  } catch (error) {
    return record({
      acked: false,
      status: null,
      jobId: null,
      error:
        (error as Error).name === 'TimeoutError' ? 'client_timeout' : `client: ${(error as Error).message}`,
    });
  }
}

export function startWriteLoad(opts: WriteLoadOptions): WriteLoad {
  const random = opts.random ?? Math.random;
  const mix = opts.mix ?? { insert: 0.6, update: 0.2, delete: 0.2 };
  const concurrency = opts.concurrency ?? 2;
  const gapMs = (1000 * concurrency) / (opts.ratePerSec ?? 6);
  const stopAt = Date.now() + (opts.maxDurationMs ?? 120_000);
  const records: WriteRecord[] = [];
  const waits = opts.waits?.length ? opts.waits : (['applied'] as const);
  let writesSent = 0;
  const nextWait = () => waits[writesSent++ % waits.length]!;
  const docs = new Map<string, TrackedDocument & { tainted: boolean; busy: boolean }>();
  let next = 0;
  let running = true;
  const pick = <T>(list: T[]): T | undefined => list[Math.floor(random() * list.length)];

  const one = async () => {
    const live = [...docs.values()].filter((d) => !d.deleted && !d.tainted && !d.busy);
    const roll = random();
    let op: 'insert' | 'update' | 'delete' =
      roll < mix.insert ? 'insert' : roll < mix.insert + mix.update ? 'update' : 'delete';
    if (op !== 'insert' && live.length === 0) op = 'insert';
    let doc: TrackedDocument & { tainted: boolean; busy: boolean };
    if (op === 'insert') {
      const n = next++;
      const base = opts.baseTexts[n % opts.baseTexts.length]!;
      doc = {
        id: `${opts.tag}-${String(n).padStart(5, '0')}`,
        base,
        deleted: false,
        version: 0,
        tainted: false,
        busy: false,
      };
      docs.set(doc.id, doc);
    } else {
      doc = pick(live)!;
    }
    doc.busy = true;
    const version = doc.version + 1;
    const text = op === 'delete' ? null : `${doc.base} [${doc.id} version ${version}]`;
    const [record] = await writeOnce(
      opts,
      op === 'delete' ? 'delete' : 'upsert',
      [{ id: doc.id, text }],
      nextWait(),
    );
    records.push(record!);
    doc.busy = false;
    if (!record!.acked)
      doc.tainted = true; // never touched again: its state is ambiguous (see checker.ts)
    else if (op === 'delete') doc.deleted = true;
    else doc.version = version;
  };

  const writer = async () => {
    while (running && Date.now() < stopAt) {
      const started = Date.now();
      await one();
      const wait = gapMs - (Date.now() - started);
      if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
    }
  };
  const writers = Array.from({ length: concurrency }, () => writer());

  type Doc = TrackedDocument & { tainted: boolean; busy: boolean };
  const burst: WriteLoad['burst'] = async ({ docs: count, rounds, batch = 50, parallel = 2 }) => {
    const mine: Doc[] = Array.from({ length: count }, (_, i) => {
      const n = next++;
      const doc = {
        id: `${opts.tag}-u${String(i).padStart(5, '0')}`,
        base: opts.baseTexts[n % opts.baseTexts.length]!,
        deleted: false,
        version: 0,
        tainted: false,
        busy: true, // the steady writers leave these alone
      };
      docs.set(doc.id, doc);
      return doc;
    });
    let acked = 0;
    for (let round = 0; round <= rounds && running; round++) {
      const live = mine.filter((d) => !d.tainted);
      const batches: Doc[][] = [];
      for (let i = 0; i < live.length; i += batch) batches.push(live.slice(i, i + batch));
      const send = async (group: Doc[]) => {
        const texts = group.map((d) => `${d.base} [${d.id} version ${d.version + 1}]`);
        const out = await writeOnce(
          opts,
          'upsert',
          group.map((d, i) => ({ id: d.id, text: texts[i]! })),
          nextWait(),
        );
        records.push(...out);
        for (const d of group) {
          if (out[0]!.acked) d.version++;
          else d.tainted = true;
        }
        if (out[0]!.acked) acked += group.length;
      };
      for (let i = 0; i < batches.length && running; i += parallel)
        await Promise.all(batches.slice(i, i + parallel).map(send));
    }
    for (const d of mine) d.busy = false;
    return acked;
  };

  return {
    records,
    burst,
    tracked: () =>
      [...docs.values()]
        .filter((d) => !d.tainted && (d.version > 0 || d.deleted))
        .map(({ id, base, deleted, version }) => ({ id, base, deleted, version })),
    probeQuery() {
      const candidates = [...docs.values()].filter((d) => d.version > 0);
      return pick(candidates)?.base ?? null;
    },
    async stop() {
      running = false;
      await Promise.all(writers);
      return records.sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}
