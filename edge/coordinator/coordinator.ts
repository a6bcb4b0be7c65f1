/**
 * ClusterCoordinator: the one Durable Object that knows who the master is.
 *
 * A thin adapter around the pure modules: it stores state (./storage.ts), runs the probe loop
 * on its alarm, feeds probe signals to the detector, and drives the failover machine by
 * performing its effects (./effects.ts). The Worker reaches it by RPC (methods below).
 */
import { DurableObject } from 'cloudflare:workers';
import type { ClusterStatus, FailoverReport, FailoverSummary, NodeStatus } from '../../shared/edge-api.ts';
import { RegisterNode } from '../../shared/schemas.ts';
import { parseSeedNodes, readConfig, type EdgeConfig } from '../config.ts';
import { isElectable, recordSignal, shouldFailover, type ProbeOutcome, type Signal } from '../detector.ts';
import type { Env } from '../env.ts';
import {
  planFailover,
  transition,
  type ClusterView,
  type FailoverKind,
  type FailoverRecord,
} from '../failover.ts';
import { log } from '../log.ts';
import type { RoutingTable } from '../router.ts';
import { performEffect } from './effects.ts';
import { callNode, probeNode } from './node-client.ts';
import { CoordinatorStore } from './storage.ts';
import {
  assessNodes,
  failoverReport,
  failoverSummary,
  nodeStatus,
  routingTable,
  standbyStatus,
  type MetricsSnapshot,
} from './views.ts';

export type RpcError = { ok: false; code: string; message: string };

export interface FailureReport {
  outcome: Exclude<ProbeOutcome, 'ok'>;
  status?: number;
  message?: string;
  requestId?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ClusterCoordinator extends DurableObject<Env> {
  private readonly store: CoordinatorStore;
  private readonly config: EdgeConfig;
  private readonly history: Map<string, Signal[]>;
  private readonly probing = new Map<string, Promise<Signal>>();
  /** Last time each corrective call (standby / re-activate) went to a node: at most one per throttle window. */
  private readonly nudged = new Map<string, number>();
  private driving: Promise<void> | null = null;
  private alarmKnown = false;
  private lastBlockedLog = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env as unknown as Record<string, unknown>);
    // SQLite calls are synchronous, so the state is loaded before any RPC can run.
    this.store = new CoordinatorStore(ctx.storage.sql);
    this.history = this.store.loadSignals();
    this.seed();
  }

  // ---- RPC surface used by the Worker -------------------------------------------------------

  async getRoutingTable(): Promise<RoutingTable> {
    await this.armIfIdle('api');
    return routingTable(this.state(), Date.now());
  }

  /** A failed request on the request path: note it, probe that node now, re-evaluate. */
  async reportFailure(nodeId: string, report: FailureReport): Promise<void> {
    if (!this.store.nodes().some((n) => n.id === nodeId)) return;
    const signal: Signal = { at: Date.now(), outcome: report.outcome, source: 'request' };
    if (report.status !== undefined) signal.status = report.status;
    if (report.message !== undefined) signal.message = report.message;
    this.record(nodeId, signal);
    log('warn', 'coordinator', 'request failure reported', {
      node: nodeId,
      epoch: this.store.epoch,
      request_id: report.requestId,
      outcome: report.outcome,
    });
    await this.probeOne(nodeId);
    // Not awaited: a failover may take seconds and the caller's request is already answered.
    this.ctx.waitUntil(
      this.reconcile().catch((e) => log('error', 'coordinator', 'reconcile failed', { error: String(e) })),
    );
  }

  /** Called by the cron every minute: the probe loop must always be armed. */
  async ensureAlarm(source: string = 'cron'): Promise<{ already_armed: boolean; alarm_at: number }> {
    const current = await this.ctx.storage.getAlarm();
    if (current !== null) {
      this.alarmKnown = true;
      return { already_armed: true, alarm_at: current };
    }
    return { already_armed: false, alarm_at: await this.arm(source, 0) };
  }

  async registerNode(input: unknown): Promise<{ ok: true; created: boolean; node: NodeStatus } | RpcError> {
    const parsed = RegisterNode.safeParse(input);
    if (!parsed.success)
      return {
        ok: false,
        code: 'invalid_request',
        message: parsed.error.issues[0]?.message ?? 'invalid node',
      };
    const node = { ...parsed.data, url: parsed.data.url.replace(/\/+$/, '') };
    const created = this.store.upsertNode(node, Date.now());
    log('info', 'coordinator', created ? 'node registered' : 'node updated', {
      node: node.id,
      url: node.url,
      epoch: this.store.epoch,
    });
    await this.armIfIdle('api');
    await this.probeOne(node.id);
    this.ctx.waitUntil(
      this.reconcile().catch((e) => log('error', 'coordinator', 'reconcile failed', { error: String(e) })),
    );
    const status = assessNodes(this.state()).find((n) => n.row.id === node.id)!;
    return { ok: true, created, node: nodeStatus(status) };
  }

  async removeNode(id: string): Promise<{ ok: true; removed: boolean } | RpcError> {
    if (id === this.store.master) {
      return {
        ok: false,
        code: 'is_master',
        message: `node "${id}" is the master; move it first with POST /api/v1/admin/switchover`,
      };
    }
    const active = this.store.activeFailover();
    if (active && (active.to === id || active.demote === id)) {
      return {
        ok: false,
        code: 'failover_in_progress',
        message: `node "${id}" takes part in failover ${active.id}; retry when it is done`,
      };
    }
    const removed = this.store.removeNode(id);
    this.history.delete(id);
    if (removed) log('info', 'coordinator', 'node removed', { node: id, epoch: this.store.epoch });
    return { ok: true, removed };
  }

  /** Planned hand-over: the standby is activated before the master steps down. Runs to the end. */
  async switchover(to?: string): Promise<{ ok: true; report: FailoverReport } | RpcError> {
    if (this.driving || this.store.activeFailover())
      return {
        ok: false,
        code: 'failover_in_progress',
        message: 'a failover is in progress; retry when it is done',
      };
    const master = this.store.master;
    if (!master)
      return {
        ok: false,
        code: 'no_master',
        message: 'the cluster has no master yet; nothing to switch over from',
      };
    await this.probeAll(); // decide on fresh health, not on a probe up to one interval old
    const record = this.start('switchover', master, 'planned switchover (admin)', to);
    if ('code' in record) return record;
    await this.drive(record);
    return { ok: true, report: failoverReport(this.store.getFailover(record.id) ?? record) };
  }

  async listFailovers(limit: number = 50): Promise<FailoverSummary[]> {
    return this.store.listFailovers(Math.min(Math.max(1, limit), 500)).map(failoverSummary);
  }

  async getFailover(id: string): Promise<FailoverReport | null> {
    const record = this.store.getFailover(id);
    return record ? failoverReport(record) : null;
  }

  async status(): Promise<ClusterStatus> {
    const nodes = assessNodes(this.state()).map(nodeStatus);
    const last = this.store.listFailovers(1)[0];
    const armedAt = this.store.getMeta('alarm_armed_at');
    return {
      current_master: this.store.master,
      epoch: this.store.epoch,
      standby_status: standbyStatus(nodes),
      nodes,
      last_failover: last ? failoverSummary(last) : null,
      failover_in_progress: this.store.activeFailover() !== null,
      coordinator: {
        alarm_at: await this.ctx.storage.getAlarm(),
        alarm_armed_at: armedAt === null ? null : Number(armedAt),
        alarm_armed_by: this.store.getMeta('alarm_armed_by'),
        probe_interval_ms: this.config.probeIntervalMs,
        note: this.store.getMeta('note'),
      },
    };
  }

  async metrics(): Promise<MetricsSnapshot> {
    return {
      epoch: this.store.epoch,
      failoverCount: Number(this.store.getMeta('failover_count') ?? 0),
      nodes: assessNodes(this.state()).map(({ row, assessment, role }) => ({
        id: row.id,
        up: assessment.state === 'up' || assessment.state === 'overloaded',
        lagSeconds: assessment.lastHealth?.replication
          ? assessment.lastHealth.replication.lag_ms / 1000
          : null,
        overloaded: assessment.overloaded,
        role,
      })),
      probes: this.store.probeCounts(),
    };
  }

  // ---- the probe loop ------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    try {
      await this.probeAll();
      await this.reconcile();
    } catch (error) {
      log('error', 'coordinator', 'probe loop iteration failed', {
        error: String(error),
        epoch: this.store.epoch,
      });
    } finally {
      // Re-armed whatever happened above: a thrown probe must not stop the loop (cron is the backstop).
      await this.ctx.storage.setAlarm(Date.now() + this.config.probeIntervalMs);
    }
  }

  private async arm(source: string, delayMs: number): Promise<number> {
    const at = Date.now() + delayMs;
    await this.ctx.storage.setAlarm(at);
    this.alarmKnown = true;
    this.store.setMeta('alarm_armed_at', String(Date.now()));
    this.store.setMeta('alarm_armed_by', source);
    log('info', 'coordinator', 'probe loop armed', { source, epoch: this.store.epoch });
    return at;
  }

  /** Starts the loop on first use when there is something to probe (seeded NODES, a registration). */
  private async armIfIdle(source: string): Promise<void> {
    if (this.alarmKnown || this.store.nodes().length === 0) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.arm(source, 0);
    this.alarmKnown = true;
  }

  private async probeAll(): Promise<void> {
    await Promise.all(this.store.nodes().map((n) => this.probeOne(n.id)));
  }

  /** Concurrent probes of one node share one fetch (a burst of request failures = one probe). */
  private probeOne(nodeId: string): Promise<Signal | null> {
    const node = this.store.nodes().find((n) => n.id === nodeId);
    if (!node) return Promise.resolve(null);
    let pending = this.probing.get(nodeId);
    if (!pending) {
      pending = probeNode(node.url, this.config.probeTimeoutMs).then((signal) => {
        this.record(nodeId, signal);
        return signal;
      });
      pending.finally(() => this.probing.delete(nodeId)).catch(() => {});
      this.probing.set(nodeId, pending);
    }
    return pending;
  }

  private record(nodeId: string, signal: Signal): void {
    if (!this.store.nodes().some((n) => n.id === nodeId)) return; // removed while the probe ran
    this.history.set(nodeId, recordSignal(this.history.get(nodeId) ?? [], signal));
    this.store.appendSignal(nodeId, signal);
  }

  // ---- decisions -----------------------------------------------------------------------------

  private state() {
    return {
      nodes: this.store.nodes(),
      history: this.history,
      master: this.store.master,
      epoch: this.store.epoch,
      config: this.config,
    };
  }

  private view(): ClusterView {
    const assessed = assessNodes(this.state());
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

  /** After each probe round: finish a failover, start one, elect a first master, or correct roles. */
  private async reconcile(): Promise<void> {
    if (this.driving) return;
    const active = this.store.activeFailover();
    if (active) return this.drive(active);
    const assessed = assessNodes(this.state());
    const master = this.store.master;
    if (!master || !assessed.some((n) => n.row.id === master)) {
      if (this.adoptReportedMaster(assessed)) return;
      const record = this.start('election', null, 'no master: electing the freshest ready node');
      if (!('code' in record)) await this.drive(record);
      return;
    }
    const masterHistory = this.history.get(master) ?? [];
    if (shouldFailover(masterHistory, this.config)) {
      const failures = masterHistory.filter((s) => s.outcome !== 'ok').slice(-this.config.failThreshold * 2);
      const reason = `master ${master} failed ${this.config.failThreshold} consecutive probes`;
      const record = this.start('failover', master, reason, undefined, failures);
      if (!('code' in record)) await this.drive(record);
      return;
    }
    await this.correctRoles(assessed, master);
  }

  /**
   * A coordinator with no master (its storage is new) in front of a running cluster adopts the
   * node that already holds the newest epoch as master, instead of forcing an election.
   */
  private adoptReportedMaster(assessed: ReturnType<typeof assessNodes>): boolean {
    const claimed = assessed
      .filter((n) => isElectable(n.assessment) && n.assessment.lastHealth?.role === 'master')
      .sort((a, b) => b.assessment.lastHealth!.epoch - a.assessment.lastHealth!.epoch)[0];
    const claimedEpoch = claimed?.assessment.lastHealth?.epoch ?? 0;
    if (
      !claimed ||
      claimedEpoch < this.store.epoch ||
      assessed.some((n) => (n.assessment.lastHealth?.epoch ?? 0) > claimedEpoch)
    )
      return false;
    this.store.raiseEpoch(claimedEpoch);
    this.store.setMaster(claimed.row.id);
    log('info', 'coordinator', 'adopted running master', { node: claimed.row.id, epoch: claimedEpoch });
    return true;
  }

  private start(
    kind: FailoverKind,
    master: string | null,
    reason: string,
    to?: string,
    trigger: Signal[] = [],
  ): FailoverRecord | RpcError {
    const now = Date.now();
    const oldMasterHealth = master
      ? (assessNodes(this.state()).find((n) => n.row.id === master)?.assessment.lastHealth ?? null)
      : null;
    const id = `${kind === 'election' ? 'el' : kind === 'switchover' ? 'so' : 'fo'}-${now.toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
    const plan = planFailover(
      { kind, id, at: now, master, reason, trigger, oldMasterHealth, ...(to !== undefined ? { to } : {}) },
      this.view(),
    );
    if (!plan.ok) {
      if (now - this.lastBlockedLog > 30_000 || kind === 'switchover') {
        this.lastBlockedLog = now;
        log('warn', 'coordinator', `${kind} not possible`, {
          code: plan.code,
          reason: plan.message,
          epoch: this.store.epoch,
        });
      }
      if (kind !== 'switchover') this.store.setMeta('note', `${kind} blocked: ${plan.message}`);
      return { ok: false, code: plan.code, message: plan.message };
    }
    this.store.setMeta('note', null);
    this.store.saveFailover(plan.record);
    log('warn', 'coordinator', `${kind} started`, {
      id,
      from: master,
      to: plan.record.to,
      epoch: plan.record.epoch,
      reason,
    });
    return plan.record;
  }

  /** One driver at a time: an alarm and an RPC that both want to advance the machine share the run. */
  private drive(record: FailoverRecord): Promise<void> {
    this.driving ??= this.runMachine(record).finally(() => {
      this.driving = null;
    });
    return this.driving;
  }

  private async runMachine(initial: FailoverRecord): Promise<void> {
    const secret = this.env.CLUSTER_SECRET ?? '';
    const effectCtx = {
      store: this.store,
      config: this.config,
      secret,
      urlOf: (id: string) => this.store.nodes().find((n) => n.id === id)?.url ?? null,
    };
    let t = transition(initial, { type: 'tick', at: Date.now() }, this.view());
    while (t.effects.length > 0) {
      const effect = t.effects[0]!;
      const result = await performEffect(effect, t.record, effectCtx);
      const record = result.patch ? { ...t.record, ...result.patch } : t.record;
      log(result.ok ? 'info' : 'warn', 'coordinator', `failover step ${record.step}`, {
        id: record.id,
        epoch: record.epoch,
        ok: result.ok,
        detail: result.detail,
      });
      if (effect.type === 'canary' && !result.ok) await this.probeOne(effect.node);
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
    if (t.record.step === 'done') {
      if (t.record.kind !== 'election')
        this.store.setMeta('failover_count', String(Number(this.store.getMeta('failover_count') ?? 0) + 1));
      const summary = failoverSummary(t.record);
      log(t.record.outcome === 'failed' ? 'error' : 'info', 'coordinator', `${t.record.kind} finished`, {
        ...summary,
      });
    }
  }

  /** No automatic failback: a node that still thinks it is master, or is behind on the epoch, is told to follow. */
  private async correctRoles(assessed: ReturnType<typeof assessNodes>, master: string): Promise<void> {
    const epoch = this.store.epoch;
    const secret = this.env.CLUSTER_SECRET ?? '';
    const throttleMs = Math.max(1000, this.config.probeIntervalMs * 3);
    const now = Date.now();
    const calls: Promise<unknown>[] = [];
    for (const { row, assessment } of assessed) {
      const health = assessment.lastSignal?.health; // only a node that answered just now
      if (!health) continue;
      const isMaster = row.id === master;
      const wrong = isMaster
        ? health.ready && (health.role !== 'master' || health.epoch !== epoch)
        : health.role !== 'standby' || health.epoch < epoch;
      if (!wrong || now - (this.nudged.get(row.id) ?? 0) < throttleMs) continue;
      this.nudged.set(row.id, now);
      const path = isMaster ? '/api/v1/activate' : '/api/v1/standby';
      const body = isMaster ? { epoch } : { epoch, master };
      log('info', 'coordinator', isMaster ? 're-activating master' : 'telling node to follow as standby', {
        node: row.id,
        epoch,
        reported_role: health.role,
        reported_epoch: health.epoch,
      });
      calls.push(
        callNode({
          url: row.url,
          method: 'POST',
          path,
          body,
          epoch,
          secret,
          timeoutMs: Math.max(1000, this.config.probeTimeoutMs * 2),
        }),
      );
    }
    await Promise.all(calls);
  }

  private seed(): void {
    if (this.store.getMeta('seeded') !== null) return;
    try {
      for (const node of parseSeedNodes(this.env.NODES)) this.store.upsertNode(node, Date.now());
    } catch (error) {
      this.store.setMeta('note', String(error instanceof Error ? error.message : error));
      log('error', 'coordinator', 'NODES var is invalid; registry not seeded', { error: String(error) });
    }
    this.store.setMeta('seeded', '1');
  }
}
