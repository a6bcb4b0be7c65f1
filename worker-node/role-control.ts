/**
 * Applies the role transitions of roles.ts to the running node. The coordinator's calls
 * (activate, degrade, standby) and the step-down on a stale fence run one at a time, in arrival
 * order, on one promise chain; each decision is taken again after every await, against the role
 * as it is then. Without that, a slow activate(8), still catching up, could finish after a
 * degrade(9) and make a deposed node master again at an older epoch. A role's epoch never goes
 * backwards: setRole refuses it outright.
 */
import type { ActivateResult, Role } from '../shared/schemas.ts';
import { EpochRefusedError, RedisUnavailableError } from './errors.ts';
import type { NodeLogger } from './log.ts';
import { decideTransition, type RoleState, type Transition } from './roles.ts';

/** What a role change does to the rest of the node (main.ts and search-node.ts wire these). */
export interface RoleEffects {
  /** Whether the fence (in Redis) can be reached right now. */
  fenceReachable(): boolean;
  /** Applies the log up to its tail; returns the entries replayed. */
  catchUp(): Promise<number>;
  /** Raises the fence to `epoch` (never lowers it); returns the fence afterwards. */
  takeFence(epoch: number): Promise<number>;
  /** The ingest worker runs on the master only. */
  startWriter(): void;
  stopWriter(): Promise<void>;
  /** Stores the role with the data, so that a restart keeps the epoch. */
  persist(state: RoleState): void;
  appliedSeq(): string;
  /** After every change (metrics). */
  changed?(state: RoleState): void;
  /** Remembers a step-down for /api/v1/diagnostics (and so for failover reports). */
  noteError(event: string, detail: string): void;
}

export interface RoleControlOptions {
  nodeId: string;
  initial: RoleState;
  effects: RoleEffects;
  logger: NodeLogger;
}

/** How long a degrade or standby waits for the ingest worker to stop before answering. */
const WRITER_STOP_WAIT_MS = 2000;

/** Waits for `work` at most `ms`; it goes on in the background, and a later failure is reported. */
async function boundedWait(work: Promise<unknown>, ms: number, onError: (err: Error) => void): Promise<void> {
  const settled = work.catch((err: Error) => onError(err));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export class RoleControl {
  private state: RoleState;
  private chain: Promise<unknown> = Promise.resolve();
  /** The newest epoch any control call asked for: an older activation still running gives way. */
  private newestEpoch: number;

  constructor(private readonly opts: RoleControlOptions) {
    this.state = { ...opts.initial };
    this.newestEpoch = opts.initial.epoch;
  }

  get current(): RoleState {
    return { ...this.state };
  }

  /** Catch up to the log tail, take the fence, become master. Idempotent per epoch. */
  activate(epoch: number): Promise<ActivateResult> {
    this.newestEpoch = Math.max(this.newestEpoch, epoch);
    return this.serially(async () => {
      this.decide('master', epoch, null, 'is already at');
      const started = Date.now();
      if (!this.opts.effects.fenceReachable())
        throw new RedisUnavailableError('cannot activate while Redis is unreachable: the fence lives there');
      const replayed = await this.opts.effects.catchUp();
      this.checkCurrent(epoch);
      const fence = await this.opts.effects.takeFence(epoch);
      if (fence > epoch)
        throw new EpochRefusedError(`the fence is already at epoch ${fence}; activate with ${epoch} refused`);
      this.checkCurrent(epoch);
      // Entries the old master appended between our catch-up and the fence are applied by the
      // applier like any other; writes from us follow them in the log.
      const decision = this.decide('master', epoch, null, 'is already at');
      if (decision.kind === 'apply') this.setRole(decision.next);
      this.opts.effects.startWriter();
      const catchUpMs = Date.now() - started;
      const appliedSeq = this.opts.effects.appliedSeq();
      this.opts.logger.info('role.activated', { catch_up_ms: catchUpMs, replayed, applied_seq: appliedSeq });
      return {
        node: this.opts.nodeId,
        role: 'master',
        epoch,
        applied_seq: appliedSeq,
        catch_up_ms: catchUpMs,
        replayed,
      };
    });
  }

  /** Leave service and refuse writes. */
  degrade(epoch: number): Promise<RoleState> {
    return this.follow('degraded', epoch, null);
  }

  /** Follow the log as `master`'s standby. */
  standby(epoch: number, master: string | null): Promise<RoleState> {
    return this.follow('standby', epoch, master);
  }

  /**
   * An append met a newer fence: someone else is master, stop writing. Does nothing when the
   * node has meanwhile moved past `epoch` (a newer activation is not undone by an old refusal).
   * The ingest worker is told to stop, not awaited: the job that met the fence runs inside it.
   */
  stepDown(refusal: { epoch: number; fence: number; message: string }, logger = this.opts.logger) {
    return this.serially(async () => {
      if (this.state.epoch !== refusal.epoch) return;
      logger.warn('role.deposed', { fence: refusal.fence, epoch: refusal.epoch });
      this.opts.effects.noteError('role.deposed', refusal.message);
      this.setRole({ role: 'degraded', epoch: this.state.epoch, master: null });
      void this.opts.effects.stopWriter().catch(() => undefined);
    });
  }

  private follow(to: Exclude<Role, 'master'>, epoch: number, master: string | null): Promise<RoleState> {
    this.newestEpoch = Math.max(this.newestEpoch, epoch);
    return this.serially(async () => {
      const decision = this.decide(to, epoch, master, 'is at');
      // The role changes first: the write path admits nothing and the ingest processor appends
      // nothing once this node is no longer master (and the fence refuses an old epoch anyway).
      // Stopping the BullMQ worker needs Redis, which may be what is broken here (Redis cut off
      // from this node alone): wait for it a bounded time, never with the role change held back.
      if (decision.kind === 'apply') this.setRole(decision.next);
      await boundedWait(this.opts.effects.stopWriter(), WRITER_STOP_WAIT_MS, (err) =>
        this.opts.effects.noteError('role.writer_stop_failed', err.message),
      );
      return this.current;
    });
  }

  /** The transition from the role as it is now; a stale one is refused with 409. */
  private decide(to: Role, epoch: number, master: string | null, phrase: string): Transition {
    const call = to === 'master' ? 'activate' : to === 'degraded' ? 'degrade' : 'standby';
    const decision = decideTransition(this.state, { to, epoch, self: this.opts.nodeId, master });
    if (decision.kind === 'stale')
      throw new EpochRefusedError(
        `${call} with epoch ${epoch}, this node ${phrase} epoch ${decision.current}`,
      );
    return decision;
  }

  /** After an await: a call for a newer epoch arrived meanwhile, so this one must not finish. */
  private checkCurrent(epoch: number): void {
    if (this.newestEpoch > epoch)
      throw new EpochRefusedError(
        `activate with epoch ${epoch} was overtaken by a call for epoch ${this.newestEpoch}; not activating`,
      );
  }

  private setRole(next: RoleState): void {
    if (next.epoch < this.state.epoch)
      throw new Error(`refusing to move the epoch back from ${this.state.epoch} to ${next.epoch}`);
    this.opts.effects.persist(next);
    this.state = { ...next };
    this.opts.effects.changed?.(this.current);
    this.opts.logger.info('role.changed', { role: next.role, master: next.master });
  }

  private serially<T>(run: () => Promise<T>): Promise<T> {
    const result = this.chain.then(run);
    this.chain = result.catch(() => undefined);
    return result;
  }
}
