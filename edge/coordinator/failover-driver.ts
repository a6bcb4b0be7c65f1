/**
 * Drives the failover machine (../failover.ts): starts a record (failover, switchover or
 * election), then performs the effect its current step asks for (./effects.ts), feeds the result
 * back through `transition` and stores the next record, until the machine is done. One run at a
 * time: an alarm and an RPC that both want to advance the machine share the run.
 */
import type { EdgeConfig } from '../config.ts';
import { isElectable, type Signal } from '../detector.ts';
import {
  planFailover,
  transition,
  type ClusterView,
  type FailoverKind,
  type FailoverRecord,
} from '../failover.ts';
import { log } from '../log.ts';
import { performEffect, type EffectContext } from './effects.ts';
import type { Prober } from './probes.ts';
import { rpcError, type RpcError } from './rpc-errors.ts';
import type { CoordinatorStore } from './storage.ts';
import { assessNodes, failoverSummary } from './views.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ID_PREFIX: Record<FailoverKind, string> = { election: 'el', switchover: 'so', failover: 'fo' };

export class FailoverDriver {
  private driving: Promise<void> | null = null;
  private lastBlockedLog = 0;

  constructor(
    private readonly store: CoordinatorStore,
    private readonly prober: Prober,
    private readonly config: EdgeConfig,
    private readonly secret: string,
  ) {}

  /** True while a run is in flight or a stored record is unfinished. */
  get busy(): boolean {
    return this.driving !== null || this.store.activeFailover() !== null;
  }

  get running(): boolean {
    return this.driving !== null;
  }

  /** What the transition needs to know about the world, fresh on each call. */
  view(): ClusterView {
    const assessed = assessNodes(this.prober.state());
    return {
      epoch: this.store.epoch,
      maxObservedEpoch: Math.max(0, ...assessed.map((n) => n.assessment.lastHealth?.epoch ?? 0)),
      activateVerifyMs: this.config.activateVerifyMs,
      nodes: assessed.map(({ row, assessment }) => ({
        id: row.id,
        priority: row.priority,
        appliedSeq: assessment.lastHealth?.index.applied_seq ?? '0-0',
        healthy: isElectable(assessment),
      })),
    };
  }

  /** Plans and stores a new record, or says why none can start (logged at most every 30 s). */
  start(
    kind: FailoverKind,
    master: string | null,
    reason: string,
    to?: string,
    trigger: Signal[] = [],
  ): FailoverRecord | RpcError {
    const now = Date.now();
    const oldMasterHealth = master
      ? (assessNodes(this.prober.state()).find((n) => n.row.id === master)?.assessment.lastHealth ?? null)
      : null;
    const id = `${ID_PREFIX[kind]}-${now.toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
    const plan = planFailover(
      { kind, id, at: now, master, reason, trigger, oldMasterHealth, ...(to !== undefined ? { to } : {}) },
      this.view(),
    );
    if (!plan.ok) {
      if (now - this.lastBlockedLog > 30_000 || kind === 'switchover') {
        this.lastBlockedLog = now;
        log('warn', 'coordinator', `${kind}.blocked`, {
          epoch: this.store.epoch,
          code: plan.code,
          reason: plan.message,
        });
      }
      if (kind !== 'switchover') this.store.setMeta('note', `${kind} blocked: ${plan.message}`);
      return rpcError(plan.code, plan.message);
    }
    this.store.setMeta('note', null);
    this.store.saveFailover(plan.record);
    log('warn', 'coordinator', `${kind}.started`, {
      epoch: plan.record.epoch,
      id,
      from: master,
      to: plan.record.to,
      reason,
    });
    return plan.record;
  }

  drive(record: FailoverRecord): Promise<void> {
    this.driving ??= this.run(record).finally(() => {
      this.driving = null;
    });
    return this.driving;
  }

  private async run(initial: FailoverRecord): Promise<void> {
    const effectCtx: EffectContext = {
      store: this.store,
      config: this.config,
      secret: this.secret,
      urlOf: (id: string) => this.store.nodes().find((n) => n.id === id)?.url ?? null,
    };
    let t = transition(initial, { type: 'tick', at: Date.now() }, this.view());
    while (t.effects.length > 0) {
      const effect = t.effects[0]!;
      const result = await performEffect(effect, t.record, effectCtx);
      const record = result.patch ? { ...t.record, ...result.patch } : t.record;
      log(result.ok ? 'info' : 'warn', 'coordinator', 'failover.step', {
        epoch: record.epoch,
        id: record.id,
        step: record.step,
        ok: result.ok,
        detail: result.detail,
      });
      if (effect.type === 'canary' && !result.ok) await this.prober.probeOne(effect.node);
      t = transition(
        record,
        {
          type: 'result',
          step: record.step,
          epoch: record.epoch,
          ok: result.ok,
          at: Date.now(),
          detail: result.detail,
        },
        this.view(),
      );
      this.store.saveFailover(t.record);
      // A canary that failed inside the verify window is retried after a short pause, not in a hot loop.
      if (effect.type === 'canary' && !result.ok && t.record.step === 'verify') await sleep(250);
    }
    if (t.record.step === 'done') this.finished(t.record);
  }

  private finished(record: FailoverRecord): void {
    if (record.kind !== 'election')
      this.store.setMeta('failover_count', String(Number(this.store.getMeta('failover_count') ?? 0) + 1));
    log(record.outcome === 'failed' ? 'error' : 'info', 'coordinator', `${record.kind}.finished`, {
      ...failoverSummary(record),
    });
  }
}
