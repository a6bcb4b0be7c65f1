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
 * Records use the checker's types (records.ts, checked by checker.ts). The write load is in
 * write-load.ts.
 */
import type { SearchHitRecord, SearchRecord, WriteRecord } from './records.ts';

export type { SearchRecord, WriteRecord };

export interface SearchLoadOptions {
  edgeUrl: string;
  /** The cluster's search key (state file `api_key`); none for a corpus declared public. */
  apiKey?: string;
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

export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `code: message` of an error body (the message names what failed), or null. */
export function errorCode(body: unknown): string | null {
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
  apiKey?: string,
): Promise<SearchRecord> {
  const startedAt = Date.now();
  const base = { startedAt, query, servedBy: null, role: null, epoch: null, results: null };
  try {
    const res = await fetch(`${edgeUrl}/api/v1/search`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
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
      const p = searchOnce(opts.edgeUrl, query, topK, opts.timeoutMs, opts.apiKey).then((r) => {
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
