/**
 * ClusterCoordinator: the one Durable Object that knows who the master is.
 *
 * A thin adapter: it builds the parts, answers the Worker's RPCs through them, and runs the probe
 * loop on its alarm. The parts, each in its own file beside this one: storage.ts (the SQLite
 * tables), probes.ts (signals and /health probes), alarm-loop.ts (arming the loop),
 * failover-driver.ts (running the failover machine), effects.ts (its effects against the nodes,
 * through node-client.ts), reconcile.ts (what to do after a probe round), registry.ts (the
 * operator's RPCs), rpc-errors.ts (what those may refuse with), views.ts and diagnostics.ts (what
 * the world is shown).
 */
import { DurableObject } from 'cloudflare:workers';
import type { ClusterStatus, FailoverReport, FailoverSummary, NodeStatus } from '../../shared/edge-api.ts';
import { readConfig, type EdgeConfig } from '../config.ts';
import type { ProbeOutcome, Signal } from '../detector.ts';
import type { Env } from '../env.ts';
import { log, setLogLevel } from '../log.ts';
import type { RoutingTable } from '../router.ts';
import { AlarmLoop } from './alarm-loop.ts';
import { FailoverDriver } from './failover-driver.ts';
import { Prober } from './probes.ts';
import { Reconciler } from './reconcile.ts';
import { registerNode, removeNode, seedRegistry, switchover, type RegistryParts } from './registry.ts';
import type { RpcError } from './rpc-errors.ts';
import { CoordinatorStore } from './storage.ts';
import {
  clusterStatus,
  failoverReport,
  failoverSummary,
  metricsSnapshot,
  routingTable,
  type MetricsSnapshot,
} from './views.ts';

export type { RpcError, RpcErrorCode } from './rpc-errors.ts';

export interface FailureReport {
  outcome: Exclude<ProbeOutcome, 'ok'>;
  status?: number;
  message?: string;
  requestId?: string;
}

/** Between the confirming probes of a node the request path reported failing. */
const CONFIRM_GAP_MS = 100;

export class ClusterCoordinator extends DurableObject<Env> {
  private readonly config: EdgeConfig;
  private readonly store: CoordinatorStore;
  private readonly prober: Prober;
  private readonly alarmLoop: AlarmLoop;
  private readonly reconciler: Reconciler;
  private readonly parts: RegistryParts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env as unknown as Record<string, unknown>);
    setLogLevel(env.LOG_LEVEL);
    const secret = env.CLUSTER_SECRET ?? '';
    // SQLite calls are synchronous, so the state is loaded before any RPC can run.
    this.store = new CoordinatorStore(ctx.storage.sql);
    this.prober = new Prober(this.store, this.config);
    this.alarmLoop = new AlarmLoop(ctx.storage, this.store, this.config);
    const driver = new FailoverDriver(this.store, this.prober, this.config, secret);
    this.reconciler = new Reconciler(this.store, this.prober, driver, this.config, secret);
    this.parts = {
      store: this.store,
      prober: this.prober,
      alarm: this.alarmLoop,
      driver,
      reconcileSoon: () => this.reconcileSoon(),
    };
    seedRegistry(this.store, env.NODES);
  }

  /** Set by tests through setRoutingFault: how getRoutingTable misbehaves, as a hiccup would. */
  private routingFault: 'fail' | 'hang' | null = null;

  /**
   * Tests only, and only with TEST_HOOKS = "true": makes getRoutingTable throw or never answer,
   * so that the Worker's routing through a coordinator outage can be tested in real workerd.
   */
  async setRoutingFault(fault: 'fail' | 'hang' | null): Promise<void> {
    if (this.env.TEST_HOOKS !== 'true')
      throw new Error('setRoutingFault is a test hook: it needs TEST_HOOKS = "true" in the Worker vars');
    this.routingFault = fault;
  }

  // ---- RPC surface used by the Worker -------------------------------------------------------

  async getRoutingTable(): Promise<RoutingTable> {
    if (this.routingFault === 'fail') throw new Error('routing table refused (TEST_HOOKS routing fault)');
    if (this.routingFault === 'hang') await new Promise<never>(() => undefined);
    await this.alarmLoop.armIfIdle('api');
    return routingTable(this.prober.state(), Date.now());
  }

  /** A failed request on the request path: note it, probe that node now, re-evaluate. */
  async reportFailure(nodeId: string, report: FailureReport): Promise<void> {
    if (!this.prober.isRegistered(nodeId)) return;
    const signal: Signal = { at: Date.now(), outcome: report.outcome, source: 'request' };
    if (report.status !== undefined) signal.status = report.status;
    if (report.message !== undefined) signal.message = report.message;
    this.prober.record(nodeId, signal);
    log('warn', 'coordinator', 'request_failure.reported', {
      node: nodeId,
      epoch: this.store.epoch,
      request_id: report.requestId,
      outcome: report.outcome,
    });
    // Confirm at once: a node the request path found failing is probed again right away, up to
    // FAIL_THRESHOLD times while it keeps failing. The read path stops sending it reads (hedging,
    // ejection), so waiting for more reports, or for the probe interval, would delay a failover.
    for (let i = 0; i < this.config.failThreshold; i++) {
      const signal = await this.prober.probeOne(nodeId);
      if (!signal || signal.outcome === 'ok') break;
      if (i + 1 < this.config.failThreshold) await new Promise((r) => setTimeout(r, CONFIRM_GAP_MS));
    }
    this.reconcileSoon();
  }

  /** Called by the cron every minute: the probe loop must always be armed. */
  ensureAlarm(source: string = 'cron'): Promise<{ already_armed: boolean; alarm_at: number }> {
    return this.alarmLoop.ensure(source);
  }

  registerNode(input: unknown): Promise<{ ok: true; created: boolean; node: NodeStatus } | RpcError> {
    return registerNode(this.parts, input);
  }

  async removeNode(id: string): Promise<{ ok: true; removed: boolean } | RpcError> {
    return removeNode(this.parts, id);
  }

  switchover(to?: string): Promise<{ ok: true; report: FailoverReport } | RpcError> {
    return switchover(this.parts, to);
  }

  async listFailovers(limit: number = 50): Promise<FailoverSummary[]> {
    return this.store.listFailovers(Math.min(Math.max(1, limit), 500)).map(failoverSummary);
  }

  async getFailover(id: string): Promise<FailoverReport | null> {
    const record = this.store.getFailover(id);
    return record ? failoverReport(record) : null;
  }

  async status(): Promise<ClusterStatus> {
    const armedAt = this.store.getMeta('alarm_armed_at');
    return clusterStatus(this.prober.state(), {
      alarmAt: await this.alarmLoop.next(),
      alarmArmedAt: armedAt === null ? null : Number(armedAt),
      alarmArmedBy: this.store.getMeta('alarm_armed_by'),
      note: this.store.getMeta('note'),
      lastFailover: this.store.listFailovers(1)[0] ?? null,
      failoverInProgress: this.store.activeFailover() !== null,
    });
  }

  async metrics(): Promise<MetricsSnapshot> {
    return metricsSnapshot(this.prober.state(), {
      failoverCount: Number(this.store.getMeta('failover_count') ?? 0),
      probes: this.store.probeCounts(),
    });
  }

  // ---- the probe loop ------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    try {
      await this.prober.probeAll();
      await this.reconciler.run();
    } catch (error) {
      log('error', 'coordinator', 'probe_loop.failed', { epoch: this.store.epoch, error: String(error) });
    } finally {
      // Re-armed whatever happened above: a thrown probe must not stop the loop (cron is the backstop).
      await this.alarmLoop.rearm();
    }
  }

  /** Not awaited: a failover may take seconds and the caller's request is already answered. */
  private reconcileSoon(): void {
    this.ctx.waitUntil(
      this.reconciler
        .run()
        .catch((e) => log('error', 'coordinator', 'reconcile.failed', { error: String(e) })),
    );
  }
}
