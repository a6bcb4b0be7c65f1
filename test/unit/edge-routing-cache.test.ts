import { beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../../edge/env.ts';
import type { RoutingTable } from '../../edge/router.ts';
import { getRouting, resetRoutingCache } from '../../edge/routing-cache.ts';

const table = (epoch: number): RoutingTable => ({ epoch, master: 'm', nodes: [], generatedAt: 0 });

/** An Env whose coordinator stub answers getRoutingTable with whatever `answer` does now. */
function env(vars: Record<string, string> = {}) {
  const control = { answer: (): Promise<RoutingTable> => Promise.resolve(table(1)), calls: 0 };
  const stub = {
    getRoutingTable: () => {
      control.calls++;
      return control.answer();
    },
  };
  const e = { COORDINATOR: { getByName: () => stub }, ROUTING_RPC_TIMEOUT_MS: '30', ...vars };
  return { env: e as unknown as Env, control };
}

beforeEach(() => resetRoutingCache());

describe('routing cache', () => {
  it('routes from the last good table, saying how old, when the coordinator fails or times out', async () => {
    const { env: e, control } = env();
    expect(await getRouting(e)).toEqual({ table: table(1), staleMs: null });
    // Within the TTL the cached table serves without a call.
    await getRouting(e);
    expect(control.calls).toBe(1);

    control.answer = () => Promise.reject(new Error('rpc broke'));
    const failed = await getRouting(e, { fresh: true });
    expect(failed.table).toEqual(table(1));
    expect(failed.staleMs).toBeGreaterThanOrEqual(0);

    control.answer = () => new Promise(() => {}); // never answers
    const started = Date.now();
    const hung = await getRouting(e, { fresh: true });
    expect(hung.table).toEqual(table(1));
    expect(Date.now() - started).toBeLessThan(500); // the RPC timeout (30 ms here), not forever

    control.answer = () => Promise.resolve(table(2));
    expect(await getRouting(e, { fresh: true })).toEqual({ table: table(2), staleMs: null });
  });

  it('answers 503 when there is no good table, or the last is older than ROUTING_STALE_MAX_MS', async () => {
    const { env: e, control } = env({ ROUTING_STALE_MAX_MS: '0' });
    control.answer = () => Promise.reject(new Error('rpc broke'));
    await expect(getRouting(e)).rejects.toMatchObject({ status: 503, code: 'coordinator_unavailable' });
    control.answer = () => Promise.resolve(table(1));
    await getRouting(e);
    await new Promise((r) => setTimeout(r, 5));
    control.answer = () => Promise.reject(new Error('rpc broke'));
    await expect(getRouting(e, { fresh: true })).rejects.toMatchObject({ status: 503 });
  });
});
