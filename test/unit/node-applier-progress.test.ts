/**
 * What the applier (worker-node/replication/applier.ts) tells /health about its progress, with an
 * in-memory change log: the lag's age is the oldest unapplied entry's (an idle standby is not an
 * hour behind when one entry arrives), and stalledMs grows only while the tail is ahead; entry
 * epochs that go back (a fence Redis lost) are reported, never applied silently.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../worker-node/log.ts';
import { Applier } from '../../worker-node/replication/applier.ts';
import type { ChangeLog, RawEntry } from '../../worker-node/replication/change-log.ts';

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

describe('entry epochs', () => {
  it('reports an entry whose epoch is below an earlier one, and still applies every entry', async () => {
    const raw = (n: number, epoch: number): RawEntry => ({
      seq: `${n}-0`,
      epoch,
      model: 'm',
      entry: { seq: `${n}-0`, op: 'delete', id: `d${n}` },
    });
    const entries = [raw(1, 2), raw(2, 3), raw(3, 1), raw(4, 3)];
    const engine = {
      appliedSeq: '0-0',
      apply: async (batch: { seq: string }[]) => {
        applied.push(...batch.map((e) => e.seq));
        engine.appliedSeq = batch.at(-1)!.seq;
      },
    };
    const applied: string[] = [];
    const log = {
      prefix: 'unit',
      connected: true,
      tail: async () => '4-0',
      trimmedThrough: async () => '0-0',
      readAfter: async (after: string) =>
        entries.filter((e) => Number.parseInt(e.seq, 10) > Number.parseInt(after, 10)),
      reportApplied: async () => undefined,
    } as unknown as ChangeLog;
    const regressions: [string, number, number][] = [];
    const applier = new Applier({
      log,
      blockingRedis: { defineCommand: () => undefined } as unknown as Redis,
      engine: engine as unknown as ConstructorParameters<typeof Applier>[0]['engine'],
      nodeId: 'a',
      logger: silentLogger,
      expectedModel: 'm',
      onEpochRegression: (seq, epoch, previous) => regressions.push([seq, epoch, previous]),
    });
    expect(await applier.catchUp()).toBe(4);
    expect(applied).toEqual(['1-0', '2-0', '3-0', '4-0']);
    expect(regressions).toEqual([['3-0', 1, 3]]);
  });
});
