/**
 * After each probe round (and after a request-path failure report): finish a failover that is
 * under way, start one when the master failed FAIL_THRESHOLD consecutive probes, elect a first
 * master, adopt one a fresh coordinator finds already running, or tell nodes that disagree with
 * the coordinator about their role to correct it (a master whose fence Redis lost is activated
 * again at the coordinator's epoch, which raises the fence). No automatic failback.
 */
import type { EdgeConfig } from '../config.ts';
import { failoverReason, isElectable, writePathOk } from '../detector.ts';
import { log } from '../log.ts';
import type { FailoverDriver } from './failover-driver.ts';
import { callNode } from './node-client.ts';
import type { Prober } from './probes.ts';
import type { CoordinatorStore } from './storage.ts';
import { assessNodes, type AssessedNode } from './views.ts';

export class Reconciler {
  /** Last time each corrective call (standby / re-activate) went to a node: at most one per throttle window. */
  private readonly nudged = new Map<string, number>();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly prober: Prober,
    private readonly driver: FailoverDriver,
    private readonly config: EdgeConfig,
    private readonly secret: string,
  ) {}

  async run(): Promise<void> {
    if (this.driver.running) return;
    const active = this.store.activeFailover();
    if (active) return this.driver.drive(active);
    const assessed = assessNodes(this.prober.state());
    const master = this.store.master;
    if (!master || !assessed.some((n) => n.row.id === master)) {
      if (this.adoptReportedMaster(assessed)) return;
      const record = this.driver.start('election', null, 'no master: electing the freshest ready node');
      if (!('code' in record)) await this.driver.drive(record);
      return;
    }
    const masterHistory = this.prober.signalsOf(master);
    const standbys = assessed.filter((n) => n.row.id !== master).map((n) => this.prober.signalsOf(n.row.id));
    const reason = failoverReason(master, masterHistory, standbys, this.config);
    if (reason) {
      // The signals that triggered it: failed probes, or the probes that reported a broken write path.
      const failures = masterHistory
        .filter((s) => s.outcome !== 'ok' || !writePathOk(s.health))
        .slice(-this.config.failThreshold * 2);
      const record = this.driver.start('failover', master, reason, undefined, failures);
      if (!('code' in record)) await this.driver.drive(record);
      return;
    }
    await this.correctRoles(assessed, master);
    await this.forgetRemovedPeers(assessed, master);
  }

  /** Tells the master to drop removed nodes from the log's trim set; retried each round until it answers. */
  private async forgetRemovedPeers(assessed: AssessedNode[], master: string): Promise<void> {
    const pending = this.store.peersToForget;
    const url = assessed.find((n) => n.row.id === master && n.assessment.lastSignal?.outcome === 'ok')?.row
      .url;
    if (pending.length === 0 || !url) return;
    const done: string[] = [];
    for (const id of pending) {
      const result = await callNode({
        node: master,
        url,
        method: 'DELETE',
        path: `/api/v1/peers/${encodeURIComponent(id)}`,
        secret: this.secret,
        timeoutMs: Math.max(1000, this.config.probeTimeoutMs * 2),
      });
      if (result.ok) done.push(id);
      else log('warn', 'coordinator', 'peer.forget_failed', { node: id, master, detail: result.detail });
    }
    if (done.length > 0) {
      this.store.peersToForget = this.store.peersToForget.filter((id) => !done.includes(id));
      log('info', 'coordinator', 'peer.forgotten', { nodes: done, master });
    }
  }

  /**
   * A coordinator with no master (its storage is new) in front of a running cluster adopts the
   * node that already holds the newest epoch as master, instead of forcing an election.
   */
  private adoptReportedMaster(assessed: AssessedNode[]): boolean {
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
    log('info', 'coordinator', 'master.adopted', { node: claimed.row.id, epoch: claimedEpoch });
    return true;
  }

  /** A node that still thinks it is master, or is behind on the epoch, is told to follow. */
  private async correctRoles(assessed: AssessedNode[], master: string): Promise<void> {
    const epoch = this.store.epoch;
    const throttleMs = Math.max(1000, this.config.probeIntervalMs * 3);
    const now = Date.now();
    const calls: Promise<unknown>[] = [];
    for (const { row, assessment } of assessed) {
      const health = assessment.lastSignal?.health; // only a node that answered just now
      if (!health) continue;
      const isMaster = row.id === master;
      // A fence below the epoch: a Redis failover lost the raise. Activation raises it again.
      const fence = health.replication?.redis_topology?.fence;
      const fenceLost = typeof fence === 'number' && fence < epoch;
      const wrong = isMaster
        ? health.ready && (health.role !== 'master' || health.epoch !== epoch || fenceLost)
        : health.role !== 'standby' || health.epoch < epoch;
      if (!wrong || now - (this.nudged.get(row.id) ?? 0) < throttleMs) continue;
      this.nudged.set(row.id, now);
      const path = isMaster ? '/api/v1/activate' : '/api/v1/standby';
      const body = isMaster ? { epoch } : { epoch, master };
      log('info', 'coordinator', isMaster ? 'role.reactivate_master' : 'role.tell_standby', {
        node: row.id,
        epoch,
        reported_role: health.role,
        reported_epoch: health.epoch,
        ...(isMaster && fenceLost ? { redis_fence: fence } : {}),
      });
      calls.push(
        callNode({
          node: row.id,
          url: row.url,
          method: 'POST',
          path,
          body,
          epoch,
          secret: this.secret,
          timeoutMs: Math.max(1000, this.config.probeTimeoutMs * 2),
        }),
      );
    }
    await Promise.all(calls);
  }
}
