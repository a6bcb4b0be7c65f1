/**
 * Searches through the edge of a local cluster, recorded by what the read path says of each
 * (who served it, how many attempts, whether it was hedged), so that the full-stack read-path
 * tests assert where reads went and what they cost in requests, never how long they took.
 */
import type { Cluster } from '../../../scripts/cluster/launch.ts';

export interface EdgeRead {
  status: number;
  servedBy: string | null;
  attempts: number;
  hedged: boolean;
  ids: string[];
  ms: number;
}

/** One search through the edge (with the admin token, which any search key check accepts). */
export async function edgeSearch(cluster: Cluster, body: Record<string, unknown>): Promise<EdgeRead> {
  const started = Date.now();
  const res = await cluster.adminFetch('/api/v1/search', { method: 'POST', json: body });
  const answer = (await res.json()) as { results?: { id: string }[] };
  return {
    status: res.status,
    servedBy: res.headers.get('x-served-by'),
    attempts: Number(res.headers.get('x-gte-attempts') ?? 0),
    hedged: res.headers.get('x-gte-hedged') === '1',
    ids: (answer.results ?? []).map((r) => r.id),
    ms: Date.now() - started,
  };
}

/** `workers` clients searching back to back for `ms`. */
export async function searchLoad(cluster: Cluster, ms: number, workers: number): Promise<EdgeRead[]> {
  const until = Date.now() + ms;
  const out: EdgeRead[] = [];
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++)
        out.push(await edgeSearch(cluster, { query: `vpn access ${w} ${i}` }));
    }),
  );
  return out;
}

/** Searches served per node. */
export function servedShares(reads: EdgeRead[]): Record<string, number> {
  const served: Record<string, number> = {};
  for (const r of reads) if (r.servedBy) served[r.servedBy] = (served[r.servedBy] ?? 0) + 1;
  return served;
}

/** The edge's hedge budget (edge/hedge.ts defaults): a bucket of 10, refilled by 10 % of reads. */
export const maxHedges = (reads: number) => 10 + Math.ceil(reads * 0.1);

/** A one-line account of a load, for the test log. */
export function describeReads(label: string, reads: EdgeRead[]): string {
  const ms = reads.map((r) => r.ms).sort((a, b) => a - b);
  const p = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
  return (
    `[${label}] ${reads.length} searches, served ${JSON.stringify(servedShares(reads))}, ` +
    `${reads.filter((r) => r.hedged).length} hedged, ${reads.filter((r) => r.attempts > 1).length} with a 2nd attempt, ` +
    `p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; slowest: ` +
    [...reads]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3)
      .map((r) => `${r.ms} ms by ${r.servedBy} (${r.attempts} attempts${r.hedged ? ', hedged' : ''})`)
      .join(', ')
  );
}
