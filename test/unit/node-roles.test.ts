/**
 * The node's roles: the pure transitions (worker-node/roles.ts) and how role-control.ts applies
 * them, one call at a time, re-deciding after every await. Fakes stand in for the log, the fence
 * and the ingest worker; a catch-up held open shows what a slow activation meets.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../worker-node/log.ts';
import { type RoleEffects, RoleControl } from '../../worker-node/role-control.ts';
import { decideTransition, type RoleState, writeAllowed } from '../../worker-node/roles.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

function harness(
  initial: RoleState = { role: 'standby', epoch: 7, master: 'b' },
  overrides: Partial<RoleEffects> = {},
) {
  const calls: string[] = [];
  const persisted: RoleState[] = [];
  let fence = initial.epoch;
  let catchUp = () => Promise.resolve(3);
  const effects: RoleEffects = {
    fenceReachable: () => true,
    catchUp: () => catchUp(),
    takeFence: async (epoch) => {
      calls.push(`fence ${epoch}`);
      fence = Math.max(fence, epoch);
      return fence;
    },
    startWriter: () => calls.push('start writer'),
    stopWriter: async () => {
      calls.push('stop writer');
    },
    persist: (s) => persisted.push({ ...s }),
    appliedSeq: () => '5-0',
    noteError: (event) => calls.push(`note ${event}`),
    ...overrides,
  };
  const control = new RoleControl({ nodeId: 'a', initial, effects, logger: silentLogger });
  return {
    control,
    calls,
    persisted,
    holdCatchUp: () => {
      const held = deferred<number>();
      catchUp = () => held.promise;
      return held;
    },
    setFence: (n: number) => {
      fence = n;
    },
  };
}

describe('role transitions (pure)', () => {
  const state: RoleState = { role: 'standby', epoch: 3, master: 'b' };

  it('refuses an older epoch, ignores a repeat, applies a newer or different call', () => {
    expect(decideTransition(state, { to: 'master', epoch: 2, self: 'a' })).toEqual({
      kind: 'stale',
      current: 3,
    });
    expect(decideTransition(state, { to: 'standby', epoch: 3, self: 'a', master: 'b' })).toEqual({
      kind: 'noop',
    });
    expect(decideTransition(state, { to: 'master', epoch: 4, self: 'a' })).toEqual({
      kind: 'apply',
      next: { role: 'master', epoch: 4, master: 'a' },
    });
    expect(decideTransition(state, { to: 'degraded', epoch: 3, self: 'a', master: null })).toEqual({
      kind: 'apply',
      next: { role: 'degraded', epoch: 3, master: 'b' },
    });
  });

  it('admits a write only on the master, stamped with its epoch', () => {
    expect(writeAllowed(state, 3)).toMatchObject({ ok: false, code: 'not_master' });
    const master: RoleState = { role: 'master', epoch: 4, master: 'a' };
    expect(writeAllowed(master, 4)).toEqual({ ok: true });
    expect(writeAllowed(master, 3)).toMatchObject({ ok: false, code: 'stale_epoch' });
    expect(writeAllowed(master, null)).toMatchObject({ ok: false, code: 'stale_epoch' });
  });
});

describe('role control', () => {
  it('activates: catches up, takes the fence, becomes master, starts the writer', async () => {
    const h = harness();
    const result = await h.control.activate(8);
    expect(result).toMatchObject({ node: 'a', role: 'master', epoch: 8, applied_seq: '5-0', replayed: 3 });
    expect(h.control.current).toEqual({ role: 'master', epoch: 8, master: 'a' });
    expect(h.calls).toEqual(['fence 8', 'start writer']);
    expect(h.persisted).toEqual([{ role: 'master', epoch: 8, master: 'a' }]);
    // The same epoch again is idempotent: no second role change.
    await h.control.activate(8);
    expect(h.persisted).toHaveLength(1);
  });

  it('refuses a stale call with 409 stale_epoch', async () => {
    const h = harness();
    await expect(h.control.degrade(6)).rejects.toMatchObject({
      status: 409,
      code: 'stale_epoch',
      message: 'degrade with epoch 6, this node is at epoch 7',
    });
    await expect(h.control.activate(6)).rejects.toMatchObject({ status: 409, code: 'stale_epoch' });
    h.setFence(12);
    await expect(h.control.activate(9)).rejects.toMatchObject({
      status: 409,
      message: 'the fence is already at epoch 12; activate with 9 refused',
    });
    expect(h.control.current).toEqual({ role: 'standby', epoch: 7, master: 'b' });
  });

  it('a slow activate(8) never overwrites a later degrade(9), and the epoch never goes back', async () => {
    const h = harness();
    const held = h.holdCatchUp();
    const activating = h.control.activate(8);
    await tick();
    const degrading = h.control.degrade(9);
    await tick();
    held.resolve(0);
    await expect(activating).rejects.toMatchObject({ status: 409, code: 'stale_epoch' });
    await expect(degrading).resolves.toEqual({ role: 'degraded', epoch: 9, master: 'b' });
    expect(h.control.current).toEqual({ role: 'degraded', epoch: 9, master: 'b' });
    // The overtaken activation never made the node master, nor started the writer.
    expect(h.persisted.map((s) => s.role)).not.toContain('master');
    expect(h.calls).not.toContain('start writer');
    const epochs = h.persisted.map((s) => s.epoch);
    expect(epochs).toEqual([...epochs].sort((x, y) => x - y));
  });

  it('runs calls one at a time, in arrival order', async () => {
    const h = harness();
    const held = h.holdCatchUp();
    const activating = h.control.activate(8);
    await tick();
    const standby = h.control.standby(9, 'c');
    await tick();
    // The standby call waits for the activation in flight: nothing changed yet.
    expect(h.calls).toEqual([]);
    held.resolve(0);
    await activating.catch(() => undefined);
    expect(await standby).toEqual({ role: 'standby', epoch: 9, master: 'c' });
    expect(h.calls).toEqual(['stop writer']);
  });

  it('steps down on a stale fence, but not once a newer epoch took over', async () => {
    const h = harness({ role: 'master', epoch: 8, master: 'a' });
    await h.control.stepDown({ epoch: 8, fence: 9, message: 'append refused' });
    expect(h.control.current).toEqual({ role: 'degraded', epoch: 8, master: null });
    expect(h.calls).toContain('note role.deposed');

    const later = harness({ role: 'master', epoch: 8, master: 'a' });
    await later.control.activate(10);
    await later.control.stepDown({ epoch: 8, fence: 9, message: 'append refused' });
    expect(later.control.current).toEqual({ role: 'master', epoch: 10, master: 'a' });
  });
});

describe('stepping down when Redis is cut off from this node', () => {
  it('degrade answers, and writes stop, even when the ingest worker cannot be stopped', async () => {
    let stops = 0;
    // BullMQ's worker.close() needs Redis: here it never returns. (A hang fails this test by its timeout.)
    const { control } = harness(
      { role: 'master', epoch: 7, master: 'a' },
      {
        stopWriter: () => {
          stops++;
          return new Promise<void>(() => undefined);
        },
      },
    );
    const after = await control.degrade(8);
    expect(after).toMatchObject({ role: 'degraded', epoch: 8 });
    expect(writeAllowed(control.current, 8).ok).toBe(false);
    expect(stops).toBe(1);
    // The next control call is not stuck behind it either.
    expect(await control.standby(9, 'b')).toEqual({ role: 'standby', epoch: 9, master: 'b' });
  });
});
