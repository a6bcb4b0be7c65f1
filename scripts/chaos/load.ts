/**
 * Bounded load generators against the edge that record every request's outcome, for the
 * full-stack tests and the chaos suite (scripts/chaos/):
 *
 *   const search = startSearchLoad({ edgeUrl, ratePerSec: 50, nextQuery: () => ({ query: 'vpn' }) });
 *   const writes = startWriteLoad({ edgeUrl, adminToken, tag: 'kill9-1', baseTexts });
 *   ... inject a fault ...
 *   const searches = await search.stop();   // waits for what is in flight
 *   const acked = (await writes.stop()).filter((w) => w.acked);
 *
 * Bounded: the search load is open-loop at a fixed rate but never has more than `maxInFlight`
 * requests out (a tick that would exceed it is counted in `skipped`, not sent), every request has
 * a client deadline, and both loads stop by themselves after `maxDurationMs`.
 * Records use the checker's types (scripts/chaos/checker.ts), which says what they mean.
 */
import type { SearchHitRecord, SearchRecord, WriteRecord } from './checker.ts';

export type { SearchRecord, WriteRecord };

export interface SearchLoadOptions {
  edgeUrl: string;
  ratePerSec?: number;
  maxInFlight?: number;
  /** Client deadline per request; the edge's own read deadline is 4 s, so 15 s means "no answer". */
  timeoutMs?: number;
  maxDurationMs?: number;
  nextQuery: () => { query: string; topK?: number };
}

export interface SearchLoad {
  records: SearchRecord[];
  readonly skipped: number;
  /** Stops sending, waits for the requests in flight, returns every record. */
  stop(): Promise<SearchRecord[]>;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `code: message` of an error body (the message names what failed), or null. */
function errorCode(body: unknown): string | null {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== 'string') return null;
  return typeof error.message === 'string' ? `${error.code}: ${error.message.slice(0, 300)}` : error.code;
}

/** One search through the edge, as a record. Never throws. */
export async function searchOnce(
  edgeUrl: string,
  query: string,
  topK = 5,
  timeoutMs = 15_000,
): Promise<SearchRecord> {
  const startedAt = Date.now();
  const base = { startedAt, query, servedBy: null, role: null, epoch: null, results: null };
  try {
    const res = await fetch(`${edgeUrl}/api/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, top_k: topK }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await readBody(res)) as {
      results?: SearchHitRecord[];
      served_by?: { node: string; role: string; epoch: number };
    };
    const finishedAt = Date.now();
    if (res.status !== 200 || !Array.isArray(body?.results)) {
      return {
        ...base,
        finishedAt,
        ok: false,
        status: res.status,
        error: errorCode(body) ?? `HTTP ${res.status}`,
      };
    }
    return {
      ...base,
      finishedAt,
      ok: true,
      status: res.status,
      error: null,
      servedBy: body.served_by?.node ?? res.headers.get('x-served-by'),
      role: body.served_by?.role ?? null,
      epoch: body.served_by?.epoch ?? (Number(res.headers.get('x-gte-epoch')) || null),
      results: body.results.map((r) => ({ id: r.id, text: r.text })),
    };
  } catch (error) {
    return {
      ...base,
      finishedAt: Date.now(),
      ok: false,
      status: null,
      error:
        (error as Error).name === 'TimeoutError' ? 'client_timeout' : `client: ${(error as Error).message}`,
    };
  }
}

export function startSearchLoad(opts: SearchLoadOptions): SearchLoad {
  const rate = opts.ratePerSec ?? 50;
  const maxInFlight = opts.maxInFlight ?? 100;
  const records: SearchRecord[] = [];
  const inflight = new Set<Promise<void>>();
  const started = Date.now();
  const stopAt = started + (opts.maxDurationMs ?? 120_000);
  let due = 0;
  let skipped = 0;
  const tick = () => {
    const now = Date.now();
    if (now >= stopAt) return void clearInterval(timer);
    const target = Math.floor(((now - started) * rate) / 1000);
    for (; due < target; due++) {
      if (inflight.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const { query, topK } = opts.nextQuery();
      const p = searchOnce(opts.edgeUrl, query, topK, opts.timeoutMs).then((r) => {
        records.push(r);
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  };
  const timer = setInterval(tick, 10);
  return {
    records,
    get skipped() {
      return skipped;
    },
    async stop() {
      clearInterval(timer);
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      return records.sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}

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
  stop(): Promise<WriteRecord[]>;
}

/** One write through the edge, as a record. Never throws. */
async function writeOnce(
  opts: WriteLoadOptions,
  op: 'upsert' | 'delete',
  id: string,
  text: string | null,
): Promise<WriteRecord> {
  const startedAt = Date.now();
  const headers: Record<string, string> = { authorization: `Bearer ${opts.adminToken}` };
  try {
    const init: RequestInit =
      op === 'upsert'
        ? {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({
              documents: [{ id, text, metadata: { chaos: opts.tag } }],
              wait: 'applied',
            }),
          }
        : { method: 'DELETE', headers };
    const path =
      op === 'upsert' ? '/api/v1/documents' : `/api/v1/documents/${encodeURIComponent(id)}?wait=applied`;
    const res = await fetch(`${opts.edgeUrl}${path}`, {
      ...init,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 40_000),
    });
    const body = (await readBody(res)) as { status?: string };
    const acked = res.status === 200 && body?.status === 'applied';
    return {
      id,
      op,
      text,
      startedAt,
      finishedAt: Date.now(),
      acked,
      status: res.status,
      error: acked ? null : (errorCode(body) ?? `HTTP ${res.status} ${body?.status ?? ''}`.trim()),
    };
  } catch (error) {
    return {
      id,
      op,
      text,
      startedAt,
      finishedAt: Date.now(),
      acked: false,
      status: null,
      error:
        (error as Error).name === 'TimeoutError' ? 'client_timeout' : `client: ${(error as Error).message}`,
    };
  }
}

export function startWriteLoad(opts: WriteLoadOptions): WriteLoad {
  const random = opts.random ?? Math.random;
  const mix = opts.mix ?? { insert: 0.6, update: 0.2, delete: 0.2 };
  const concurrency = opts.concurrency ?? 2;
  const gapMs = (1000 * concurrency) / (opts.ratePerSec ?? 6);
  const stopAt = Date.now() + (opts.maxDurationMs ?? 120_000);
  const records: WriteRecord[] = [];
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
    const record = await writeOnce(opts, op === 'delete' ? 'delete' : 'upsert', doc.id, text);
    records.push(record);
    doc.busy = false;
    if (!record.acked)
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

  return {
    records,
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
