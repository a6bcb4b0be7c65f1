import { describe, expect, it } from 'vitest';
import type { RoutingTable } from '../../edge/router.ts';
import { TableCache, type TableFetch } from '../../edge/table-cache.ts';

const table = (epoch: number): RoutingTable => ({ epoch, master: 'm', nodes: [], generatedAt: 0 });

/** A fetch whose coordinator call does whatever `answer` does now. */
function fetcher(over: Partial<TableFetch> = {}) {
  const control = { answer: (): Promise<RoutingTable> => Promise.resolve(table(1)), calls: 0, failures: 0 };
  const f: TableFetch = {
    load: () => {
      control.calls++;
      return control.answer();
    },
    rpcTimeoutMs: 30,
    staleMaxMs: 30_000,
    onFailure: () => {
      control.failures++;
    },
    ...over,
  };
  return { f, control };
}

describe('routing table cache', () => {
  it('routes from the last good table, saying how old, when the coordinator fails or times out', async () => {
    const cache = new TableCache(1000);
    const { f, control } = fetcher();
    expect(await cache.get(f)).toEqual({ table: table(1), staleMs: null });
    // Within the TTL the cached table serves without a call.
    await cache.get(f);
    expect(control.calls).toBe(1);

    control.answer = () => Promise.reject(new Error('rpc broke'));
    const failed = await cache.get({ ...f, fresh: true });
    expect(failed?.table).toEqual(table(1));
    expect(failed?.staleMs).toBeGreaterThanOrEqual(0);

    // One failed attempt elsewhere (invalidate) keeps the last good table as the fallback.
    cache.invalidate();
    control.answer = () => new Promise(() => {}); // never answers
    const started = Date.now();
    const hung = await cache.get(f);
    expect(hung?.table).toEqual(table(1));
    expect(hung?.staleMs).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(500); // the RPC timeout (30 ms here), not forever
    expect(control.failures).toBe(2);

    control.answer = () => Promise.resolve(table(2));
    expect(await cache.get({ ...f, fresh: true })).toEqual({ table: table(2), staleMs: null });
  });

  it('gives nothing when there is no good table, or the last is older than staleMaxMs', async () => {
    const cache = new TableCache(1000);
    const { f, control } = fetcher({ staleMaxMs: 0 });
    control.answer = () => Promise.reject(new Error('rpc broke'));
    expect(await cache.get(f)).toBeNull();
    control.answer = () => Promise.resolve(table(1));
    await cache.get(f);
    await new Promise((r) => setTimeout(r, 5));
    control.answer = () => Promise.reject(new Error('rpc broke'));
    expect(await cache.get({ ...f, fresh: true })).toBeNull();
  });
});
