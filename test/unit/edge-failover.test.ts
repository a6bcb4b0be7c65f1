import { describe, expect, it } from 'vitest';
import {
  planFailover,
  transition,
  type ClusterView,
  type Effect,
  type FailoverRecord,
  type Step,
} from '../../edge/failover.ts';

function view(over: Partial<ClusterView> = {}): ClusterView {
  return {
    epoch: 3,
    maxObservedEpoch: 3,
    activateVerifyMs: 10_000,
    nodes: [
      { id: 'm', appliedSeq: '10-0', priority: 100, healthy: false },
      { id: 'a', appliedSeq: '9-0', priority: 100, healthy: true },
      { id: 'b', appliedSeq: '10-0', priority: 50, healthy: true },
      { id: 'c', appliedSeq: '10-0', priority: 10, healthy: false },
    ],
    ...over,
  };
}

function start(
  kind: 'failover' | 'switchover' | 'election' = 'failover',
  v: ClusterView = view(),
  to?: string,
) {
  const plan = planFailover(
    {
      kind,
      id: 'f1',
      at: 1000,
      master: kind === 'election' ? null : 'm',
      reason: 'test',
      ...(to ? { to } : {}),
    },
    v,
  );
  if (!plan.ok) throw new Error(plan.message);
  return plan;
}

/** Plays the machine to the end as the coordinator would: perform each effect, feed back its result. */
function run(
  record: FailoverRecord,
  v: ClusterView,
  outcomeOf: (e: Effect) => boolean = () => true,
  clock = { now: 2000 },
) {
  const performed: Effect[] = [];
  let t = transition(record, { type: 'tick', at: clock.now }, v);
  for (let guard = 0; t.effects.length > 0 && guard < 100; guard++) {
    const effect = t.effects[0]!;
    performed.push(effect);
    clock.now += 100;
    t = transition(
      t.record,
      { type: 'result', step: t.record.step, epoch: t.record.epoch, ok: outcomeOf(effect), at: clock.now },
      v,
    );
  }
  return { record: t.record, performed };
}

const kinds = (effects: Effect[]) => effects.map((e) => ('node' in e ? `${e.type}:${e.node}` : e.type));

describe('failover state machine', () => {
  it('chooses the healthy standby with the highest applied position, then priority', () => {
    const { record, effects } = start();
    expect(record.to).toBe('b'); // b has 10-0 (a has 9-0); c is newer-equal but unhealthy
    expect(record.epoch).toBe(4);
    expect(effects).toEqual([{ type: 'set_epoch', epoch: 4 }]); // the epoch is stored before any call
  });

  it('runs fence → degrade → activate → route → verify → report on a failover', () => {
    const { record } = start();
    const done = run(record, view());
    expect(kinds(done.performed)).toEqual([
      'set_epoch',
      'degrade:m',
      'activate:b',
      'route',
      'canary:b',
      'write_report',
    ]);
    expect(done.record.step).toBe('done');
    expect(done.record.outcome).toBe('succeeded');
    expect(done.record.log.map((l) => l.step)).toEqual([
      'fence',
      'degrade',
      'activate',
      'route',
      'verify',
      'report',
    ]);
    expect(done.record.finishedAt).not.toBeNull();
  });

  it('a degrade that fails (dead master) is logged, not fatal', () => {
    const { record } = start();
    const done = run(record, view(), (e) => e.type !== 'degrade');
    expect(done.record.outcome).toBe('succeeded');
    expect(done.record.log.find((l) => l.step === 'degrade')?.ok).toBe(false);
  });

  it('a switchover activates the standby BEFORE the master leaves, then demotes it to standby', () => {
    const v = view({ nodes: view().nodes.map((n) => ({ ...n, healthy: true })) });
    const { record } = start('switchover', v, 'a');
    expect(record.to).toBe('a');
    const done = run(record, v);
    expect(kinds(done.performed)).toEqual([
      'set_epoch',
      'activate:a',
      'route',
      'canary:a',
      'standby:m',
      'write_report',
    ]);
    expect(done.performed).toContainEqual({ type: 'standby', node: 'm', epoch: 4, master: 'a' });
  });

  it('an election on a fresh cluster has no old master to degrade', () => {
    const done = run(start('election').record, view());
    expect(kinds(done.performed)).toEqual(['set_epoch', 'activate:b', 'route', 'canary:b', 'write_report']);
  });

  it('refuses when no standby is available, without touching the epoch', () => {
    const v = view({ nodes: view().nodes.map((n) => ({ ...n, healthy: false })) });
    const plan = planFailover({ kind: 'failover', id: 'x', at: 0, master: 'm', reason: 'down' }, v);
    expect(plan).toMatchObject({ ok: false, code: 'no_candidate' });
  });

  it('validates a switchover target', () => {
    const v = view();
    expect(
      planFailover({ kind: 'switchover', id: 'x', at: 0, master: 'm', to: 'zz', reason: '' }, v),
    ).toMatchObject({ ok: false, code: 'unknown_target' });
    expect(
      planFailover({ kind: 'switchover', id: 'x', at: 0, master: 'm', to: 'm', reason: '' }, v),
    ).toMatchObject({ ok: false, code: 'already_master' });
    expect(
      planFailover({ kind: 'switchover', id: 'x', at: 0, master: 'm', to: 'c', reason: '' }, v),
    ).toMatchObject({ ok: false, code: 'target_not_healthy' });
  });

  it('an alarm delivered twice never redoes a done effect', () => {
    const { record } = start();
    const v = view();
    const fenced = transition(record, { type: 'result', step: 'fence', epoch: 4, ok: true, at: 1 }, v);
    expect(fenced.record.step).toBe('degrade');
    // the same result again (duplicate delivery): nothing changes, no effect
    const dup = transition(fenced.record, { type: 'result', step: 'fence', epoch: 4, ok: true, at: 2 }, v);
    expect(dup.record).toBe(fenced.record);
    expect(dup.effects).toEqual([]);
    // two ticks in a row ask for the current step only, never the fence again
    const tick1 = transition(fenced.record, { type: 'tick', at: 3 }, v);
    const tick2 = transition(tick1.record, { type: 'tick', at: 4 }, v);
    expect(tick1.effects).toEqual([{ type: 'degrade', node: 'm', epoch: 4 }]);
    expect(tick2.effects).toEqual(tick1.effects);
    expect(tick2.record.log).toHaveLength(1);
  });

  it('a result from an older attempt (stale epoch) is ignored', () => {
    const { record } = start();
    const stale = transition(record, { type: 'result', step: 'fence', epoch: 3, ok: true, at: 1 }, view());
    expect(stale.record.step).toBe('fence');
    expect(stale.effects).toEqual([]);
  });

  it('a crash between two steps resumes from the persisted step', () => {
    const v = view();
    let t = start();
    const steps: Step[] = [];
    // perform fence and degrade, then "crash": only the JSON in storage survives
    for (const step of ['fence', 'degrade'] as const) {
      t = {
        ok: true,
        ...transition(t.record, { type: 'result', step, epoch: t.record.epoch, ok: true, at: 10 }, v),
      };
      steps.push(t.record.step);
    }
    const stored = JSON.stringify(t.record);
    const resumed = transition(JSON.parse(stored) as FailoverRecord, { type: 'tick', at: 20 }, v);
    expect(resumed.effects).toEqual([{ type: 'activate', node: 'b', epoch: 4 }]);
    const done = run(resumed.record, v);
    expect(kinds(done.performed)).toEqual(['activate:b', 'route', 'canary:b', 'write_report']);
    expect(done.record.outcome).toBe('succeeded');
  });

  it('a canary failure past ACTIVATE_VERIFY_MS rolls back to the old master under a newer epoch if it is healthy', () => {
    const v = view({
      nodes: view().nodes.map((n) => (n.id === 'm' ? { ...n, healthy: true } : n)),
      activateVerifyMs: 1000,
    });
    const clock = { now: 2000 };
    const done = run(start('failover', v).record, v, (e) => !(e.type === 'canary' && e.node === 'b'), clock);
    const performed = kinds(done.performed);
    // canary retried until the deadline, then: new epoch, degrade the failed candidate, reactivate m
    expect(performed.filter((p) => p === 'canary:b').length).toBeGreaterThan(1);
    const rollbackAt = performed.lastIndexOf('canary:b') + 1;
    expect(performed.slice(rollbackAt)).toEqual([
      'set_epoch',
      'degrade:b',
      'activate:m',
      'route',
      'canary:m',
      'write_report',
    ]);
    expect(done.performed).toContainEqual({ type: 'set_epoch', epoch: 5 });
    expect(done.record).toMatchObject({ outcome: 'rolled_back', to: 'm', epoch: 5, tried: ['b', 'm'] });
  });

  it('a failed activation rolls back to the next standby when the old master is down', () => {
    const v = view();
    const done = run(start('failover', v).record, v, (e) => !(e.type === 'activate' && e.node === 'b'));
    expect(kinds(done.performed)).toEqual([
      'set_epoch',
      'degrade:m',
      'activate:b',
      'set_epoch',
      'degrade:b',
      'activate:a',
      'route',
      'canary:a',
      'write_report',
    ]);
    expect(done.record).toMatchObject({ outcome: 'rolled_back', to: 'a', epoch: 5 });
  });

  it('fails (and still reports) when every candidate fails', () => {
    const v = view();
    const done = run(start('failover', v).record, v, (e) => e.type !== 'activate');
    expect(done.record.outcome).toBe('failed');
    expect(done.record.step).toBe('done');
    expect(kinds(done.performed).at(-1)).toBe('write_report');
    expect(done.record.reason).toMatch(/no other healthy node/);
  });

  it('a new epoch exceeds every epoch a node has reported', () => {
    const { record } = start('election', view({ epoch: 0, maxObservedEpoch: 9 }));
    expect(record.epoch).toBe(10);
  });
});
