/**
 * What the applier (worker-node/replication/applier.ts) tells /health about its progress, with an
 * in-memory change log: the lag's age is the oldest unapplied entry's (an idle standby is not an
 * hour behind when one entry arrives), and stalledMs grows only while the tail is ahead.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../worker-node/log.ts';
import { Applier } from '../../worker-node/replication/applier.ts';
import type { ChangeLog } from '../../worker-node/replication/change-log.ts';

function applierAt(applied: string, tail: string, oldestPending: string | null) {
  const log = {
    prefix: 'unit',
    connected: true,
    tail: async () => tail,
    countBetween: async () => 3,
    firstAfter: async () => oldestPending,
  } as unknown as ChangeLog;
  const applier = new Applier({
    log,
    blockingRedis: { defineCommand: () => undefined } as unknown as Redis,
    engine: { appliedSeq: applied, apply: async () => undefined },
    nodeId: 'a',
    logger: silentLogger,
    expectedModel: 'm',
  });
  // The tail check the follow loop runs every half second.
  const checkTail = () => (applier as unknown as { checkTail(): Promise<void> }).checkTail();
  return { applier, checkTail };
}

describe('applier progress for /health', () => {
  it("an idle standby that gets one new entry lags by that entry's age, not by its last write's", async () => {
    const now = Date.now();
    const { applier, checkTail } = applierAt(`${now - 3_600_000}-0`, `${now - 50}-0`, `${now - 100}-0`);
    expect(applier.lag()).toEqual({ entries: 0, ms: 0 });
    await checkTail();
    const lag = applier.lag();
    expect(lag.entries).toBe(3);
    expect(lag.ms).toBeGreaterThanOrEqual(100);
    expect(lag.ms).toBeLessThan(5000);
  });

  it('counts stalled time only while the tail is ahead', async () => {
    const now = Date.now();
    const behind = applierAt(`${now - 1000}-0`, `${now}-0`, `${now - 500}-0`);
    await behind.checkTail();
    expect(behind.applier.stalledMs(Date.now() + 20_000)).toBeGreaterThanOrEqual(20_000);
    const caughtUp = applierAt(`${now}-0`, `${now}-0`, null);
    await caughtUp.checkTail();
    expect(caughtUp.applier.stalledMs(Date.now() + 20_000)).toBe(0);
    expect(caughtUp.applier.lag()).toEqual({ entries: 0, ms: 0 });
  });
});
