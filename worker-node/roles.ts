/**
 * The node's role and epoch as data plus pure transition checks. The coordinator drives them:
 *   activate(epoch)  standby|degraded|master → master   (after catching up and taking the fence)
 *   degrade(epoch)   any → degraded                      (leave service, refuse writes)
 *   standby(epoch)   any → standby                       (follow the log)
 * A call with an epoch lower than the node's is stale (409); the same epoch again is idempotent.
 * Every node starts as standby: master is granted by the coordinator, never assumed.
 */
import type { Role } from '../shared/schemas.ts';

export interface RoleState {
  role: Role;
  epoch: number;
  master: string | null;
}

export type Transition =
  | { kind: 'stale'; current: number }
  | { kind: 'noop' }
  | { kind: 'apply'; next: RoleState };

/** Decides what a control call does, without doing it. */
export function decideTransition(
  state: RoleState,
  call: { to: Role; epoch: number; master?: string | null; self: string },
): Transition {
  if (call.epoch < state.epoch) return { kind: 'stale', current: state.epoch };
  const master = call.to === 'master' ? call.self : (call.master ?? state.master);
  if (call.epoch === state.epoch && state.role === call.to && state.master === master)
    return { kind: 'noop' };
  return { kind: 'apply', next: { role: call.to, epoch: call.epoch, master } };
}

/** Whether a write stamped with `epoch` may be accepted by a node in `state`. */
export function writeAllowed(
  state: RoleState,
  epoch: number | null,
): { ok: true } | { ok: false; code: 'not_master' | 'stale_epoch'; message: string } {
  if (state.role !== 'master')
    return {
      ok: false,
      code: 'not_master',
      message: `this node is ${state.role}, writes go to the master (${state.master ?? 'unknown'})`,
    };
  if (epoch !== state.epoch) {
    return {
      ok: false,
      code: 'stale_epoch',
      message: `write stamped with epoch ${epoch ?? 'none'}, this master serves epoch ${state.epoch}; refresh the routing table`,
    };
  }
  return { ok: true };
}
