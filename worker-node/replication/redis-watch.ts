/**
 * Keeps a recent view of Redis for /health (and so for the coordinator and the status page): the
 * topology, the role and replicas of the master that owns the change log's keys, how many of them
 * WAIT requires, and the fence. The coordinator reads the fence from here to notice that a Redis
 * failover lost it, and re-activates the master at its epoch, which raises it again.
 */
import type { RedisTopologyHealth } from '../../shared/schemas.ts';
import type { RedisTarget } from '../redis-connection.ts';
import type { ChangeLog } from './change-log.ts';
import { requiredReplicas } from './redis-ack.ts';

const WATCH_INTERVAL_MS = 1000;

export class RedisWatch {
  private latest: RedisTopologyHealth;
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly log: Pick<ChangeLog, 'fence' | 'ack' | 'connected'>,
    target: RedisTarget,
  ) {
    this.latest = { kind: target.kind, role: null, replicas: null, min_replicas_ack: null, fence: null };
  }

  get view(): RedisTopologyHealth {
    return { ...this.latest };
  }

  start(intervalMs = WATCH_INTERVAL_MS): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at Redis (joins the one under way); what cannot be read is reported as unknown (null). */
  poll(): Promise<void> {
    this.inflight ??= this.read()
      .catch(() => undefined)
      .finally(() => (this.inflight = null));
    return this.inflight;
  }

  /** A fresh look, taken after the one under way (a fence was just raised: show it). */
  async refresh(): Promise<void> {
    await this.inflight;
    await this.poll();
  }

  private async read(): Promise<void> {
    const [replication, fence] = await Promise.all([
      this.log.connected ? this.log.ack.replication().catch(() => null) : null,
      this.log.connected ? this.log.fence().catch(() => null) : null,
    ]);
    const setting = this.log.ack.minReplicasSetting;
    this.latest = {
      kind: this.latest.kind,
      role: replication?.role ?? null,
      replicas: replication?.replicas ?? null,
      min_replicas_ack: replication ? requiredReplicas(setting, replication.replicas) : (setting ?? null),
      fence,
    };
  }
}
