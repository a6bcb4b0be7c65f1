import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../edge/config.ts';
import {
  assess,
  consecutiveFailures,
  failoverReason,
  gpuOverloaded,
  isElectable,
  recordSignal,
  shouldFailover,
  type Signal,
} from '../../edge/detector.ts';
import type { NodeHealth } from '../../shared/schemas.ts';

const config = DEFAULT_CONFIG;

function health(over: Partial<NodeHealth> & { util?: number; overloaded?: boolean } = {}): NodeHealth {
  const { util, overloaded, ...rest } = over;
  return {
    status: 'ok',
    node: 'n1',
    role: 'master',
    epoch: 1,
    ready: true,
    model: { id: 'm', loaded: true },
    index: { size: 10, applied_seq: '1-0' },
    gpu: util === undefined ? null : { util, mem_used_mb: 1, mem_total_mb: 2, temp_c: 50 },
    load: { inflight: 0, queued: 0, event_loop_lag_ms: 1, overloaded: overloaded ?? false },
    ...rest,
  };
}

const ok = (at: number, h: NodeHealth = health()): Signal => ({
  at,
  outcome: 'ok',
  source: 'probe',
  status: 200,
  health: h,
});
const fail = (at: number, outcome: Signal['outcome'] = 'connect_error'): Signal => ({
  at,
  outcome,
  source: 'probe',
});

function history(...signals: Signal[]): Signal[] {
  return signals.reduce<Signal[]>((h, s) => recordSignal(h, s), []);
}

describe('detector', () => {
  it('a never-probed node is suspect, not up', () => {
    expect(assess([], config).state).toBe('suspect');
  });

  it('fails over only after FAIL_THRESHOLD consecutive failures', () => {
    const h = history(ok(0), fail(1), fail(2, 'timeout'));
    expect(shouldFailover(h, config)).toBe(false);
    expect(assess(h, config).state).toBe('suspect');
    const h3 = recordSignal(h, fail(3, 'http_error'));
    expect(shouldFailover(h3, config)).toBe(true);
    expect(assess(h3, config).state).toBe('down');
  });

  it('3 failures with a success in between do not trigger failover', () => {
    const h = history(fail(1), fail(2), ok(3), fail(4));
    expect(consecutiveFailures(h)).toBe(1);
    expect(shouldFailover(h, config)).toBe(false);
    expect(assess(h, config).state).toBe('suspect');
  });

  it('a flood of request-path reports cannot push probe failures out of the window (a hung master under load is still failed over)', () => {
    const report = (at: number): Signal => ({ at, outcome: 'timeout', source: 'request' });
    // A hung master at 50 searches/s: ~75 failed requests per 1.5 s probe timeout.
    let h = history(ok(0));
    for (let probe = 1; probe <= 3; probe++) {
      for (let i = 0; i < 75; i++) h = recordSignal(h, report(probe * 1000 + i));
      h = recordSignal(h, fail(probe * 1000 + 999, 'timeout'));
    }
    expect(consecutiveFailures(h)).toBe(3);
    expect(shouldFailover(h, config)).toBe(true);
    expect(h.filter((s) => s.source === 'request').length).toBeLessThanOrEqual(8);
  });

  it('request-path reports make a node suspect but do not count toward the threshold', () => {
    const h = history(ok(0), fail(1), fail(2), { at: 3, outcome: 'timeout', source: 'request' });
    expect(consecutiveFailures(h)).toBe(2);
    expect(shouldFailover(h, config)).toBe(false);
    expect(assess(h, config).state).toBe('suspect');
  });

  it("the node's own overloaded flag marks it overloaded and never triggers failover", () => {
    const h = history(...Array.from({ length: 20 }, (_, i) => ok(i * 2000, health({ overloaded: true }))));
    const a = assess(h, config);
    expect(a.state).toBe('overloaded');
    expect(a.consecutiveFailures).toBe(0);
    expect(shouldFailover(h, config)).toBe(false);
  });

  it('GPU over the limit counts only when sustained for the whole window', () => {
    const hot = (at: number) => ok(at, health({ util: 99.5 }));
    const brief = history(ok(0, health({ util: 40 })), hot(2000), hot(4000));
    expect(gpuOverloaded(brief, config)).toBe(false);
    expect(assess(brief, config).state).toBe('up');
    const sustained = history(
      ok(0, health({ util: 40 })),
      ...[2000, 4000, 6000, 8000, 10000, 12000].map(hot),
    );
    expect(gpuOverloaded(sustained, config)).toBe(true);
    expect(assess(sustained, config).state).toBe('overloaded');
    expect(shouldFailover(sustained, config)).toBe(false);
    // exactly at the limit is not over it
    expect(gpuOverloaded(history(...[0, 20000].map((at) => ok(at, health({ util: 98 })))), config)).toBe(
      false,
    );
  });

  it('a node without a GPU is never GPU-overloaded', () => {
    expect(gpuOverloaded(history(ok(0), ok(20000)), config)).toBe(false);
  });

  it('503 with a valid not-ready health body is "starting": alive, not routable, counts for a master', () => {
    const starting = health({ status: 'starting', ready: false });
    const nr = (at: number): Signal => ({
      at,
      outcome: 'not_ready',
      source: 'probe',
      status: 503,
      health: starting,
    });
    const h = history(ok(0), nr(1), nr(2));
    const a = assess(h, config);
    expect(a.state).toBe('starting');
    expect(a.lastHealth?.ready).toBe(false);
    expect(shouldFailover(recordSignal(h, nr(3)), config)).toBe(true);
  });

  it('keeps the newest health body for reports even after failures', () => {
    const h = history(ok(0, health({ epoch: 7 })), fail(1), fail(2), fail(3));
    const a = assess(h, config);
    expect(a.lastHealth?.epoch).toBe(7);
    expect(a.lastOkAt).toBe(0);
  });

  it('keeps a bounded history', () => {
    let h: Signal[] = [];
    for (let i = 0; i < 200; i++) h = recordSignal(h, ok(i));
    expect(h.length).toBe(64);
    expect(h.at(-1)?.at).toBe(199);
  });
});

describe('detector: a master alive but unable to write', () => {
  const broken = health({ write_path: 'redis: unreachable' });
  const standbyOk = history(ok(0, health({ role: 'standby', write_path: 'ok' })));
  const standbyBroken = history(ok(0, health({ role: 'standby', write_path: 'disk: not writable' })));

  it('is failed over after FAIL_THRESHOLD probes reporting a broken write path, when a standby can write', () => {
    const two = history(ok(0), ok(1, broken), ok(2, broken));
    expect(failoverReason('m', two, [standbyOk], config)).toBeNull();
    const three = recordSignal(two, ok(3, broken));
    expect(failoverReason('m', three, [standbyOk], config)).toContain(
      'write path broken (redis: unreachable)',
    );
    // It still answers: alive, not down, and its reads are still served.
    expect(assess(three, config).state).toBe('up');
  });

  it('keeps the role when no standby could write either (Redis down for everyone)', () => {
    const h = history(ok(0, broken), ok(1, broken), ok(2, broken), ok(3, broken));
    expect(failoverReason('m', h, [standbyBroken], config)).toBeNull();
    expect(failoverReason('m', h, [], config)).toBeNull();
  });

  it('counts only the probes since the standby could write: Redis back, the standby reconnected first', () => {
    const standby = (at: number, path: string) => ok(at, health({ role: 'standby', write_path: path }));
    // Redis was down for both from 0 to 5 s; the standby reconnected at 5 s, the master at 6.5 s.
    const s = history(
      standby(0, 'redis: unreachable'),
      standby(2, 'redis: unreachable'),
      standby(5, 'ok'),
      standby(6, 'ok'),
    );
    const m = history(ok(0, broken), ok(2, broken), ok(4, broken), ok(5.5, broken), ok(6, broken));
    expect(failoverReason('m', m, [s], config)).toBeNull();
    // Still broken a probe later, three probes while the standby worked: now it is the master's own trouble.
    const still = recordSignal(m, ok(6.5, broken));
    expect(failoverReason('m', still, [recordSignal(s, standby(6.5, 'ok'))], config)).toContain(
      'write path broken',
    );
  });

  it('starts the count again after one probe with a working write path', () => {
    const h = history(ok(0, broken), ok(1, broken), ok(2), ok(3, broken), ok(4, broken));
    expect(failoverReason('m', h, [standbyOk], config)).toBeNull();
  });

  it('never elects a node whose write path is broken; nodes that do not report one still count', () => {
    expect(isElectable(assess(standbyBroken, config))).toBe(false);
    expect(isElectable(assess(standbyOk, config))).toBe(true);
    expect(isElectable(assess(history(ok(0, health())), config))).toBe(true);
  });

  it('still fails over a dead master as before', () => {
    const h = history(ok(0), fail(1), fail(2), fail(3));
    expect(failoverReason('m', h, [], config)).toBe('master m failed 3 consecutive probes');
  });
});
