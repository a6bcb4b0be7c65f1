/**
 * "Acknowledged" means replicated inside Redis too. Redis replicates asynchronously: an XADD or a
 * fence SET that the Redis master answered can vanish when Sentinel (or Cluster) promotes a
 * replica that had not received it yet. After each append and fence raise the change log sends
 * WAIT, on the connection that wrote (on a Cluster: the master owning the keys' slot), and the
 * write counts only once enough Redis replicas hold it; otherwise it is refused with 503.
 *
 * How many: REDIS_MIN_REPLICAS_ACK, or by default 1 when the Redis master has replicas and 0
 * when it has none (a single Redis has nothing to wait for). The topology is read with
 * INFO replication, at most once a second (the first write after a second without a reading
 * waits for one); it is also what /health reports about Redis.
 */
import type { Redis } from 'ioredis';
import { ApiError } from '../../shared/http-body.ts';

/** WAIT timed out short of the replicas asked for: the write may or may not survive a failover (503). */
export class RedisNotReplicatedError extends ApiError {
  override readonly name = 'RedisNotReplicatedError';
  constructor(
    readonly required: number,
    readonly acked: number,
    timeoutMs: number,
  ) {
    super(
      503,
      'redis_not_replicated',
      `Redis confirmed ${acked} of ${required} replica(s) within ${timeoutMs} ms; the write is not acknowledged (retry)`,
    );
  }
}

/** What INFO replication says about the server that owns the keys. */
export interface RedisReplication {
  role: 'master' | 'replica';
  /** Replicas connected to this master and online. */
  replicas: number;
}

/** Parses the text of INFO replication (`role:master`, `connected_slaves:1`, `slave0:...,state=online,...`). */
export function parseReplicationInfo(text: string): RedisReplication {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  const role = fields.get('role') === 'slave' ? 'replica' : 'master';
  let online = 0;
  for (const [name, value] of fields)
    if (/^slave\d+$/.test(name) && /(^|,)state=online(,|$)/.test(value)) online++;
  const connected = Number(fields.get('connected_slaves') ?? 0);
  // Older servers may omit per-replica lines: fall back to the count.
  return { role, replicas: [...fields.keys()].some((k) => /^slave\d+$/.test(k)) ? online : connected };
}

/** Replicas a write must reach: the setting when given, else 1 when there are replicas, else 0. */
export function requiredReplicas(setting: number | undefined, replicas: number): number {
  return setting ?? (replicas > 0 ? 1 : 0);
}

export interface ReplicaAckOptions {
  /** REDIS_MIN_REPLICAS_ACK; undefined: by topology. */
  minReplicas?: number;
  timeoutMs: number;
}

const TOPOLOGY_TTL_MS = 1000;

export class ReplicaAck {
  private cached: { at: number; value: RedisReplication } | null = null;

  /** `connection()` gives the connection that wrote the keys (null: no slot owner known yet). */
  constructor(
    private readonly connection: () => Redis | null,
    private readonly opts: ReplicaAckOptions,
  ) {}

  /** The keys' master as last read (at most a second old); throws when Redis cannot be asked. */
  async replication(): Promise<RedisReplication> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < TOPOLOGY_TTL_MS) return this.cached.value;
    const conn = this.connection();
    if (!conn) throw new Error('no Redis connection owns the change log keys yet');
    const value = parseReplicationInfo(await conn.info('replication'));
    this.cached = { at: now, value };
    return value;
  }

  /** As last read, without asking Redis (for /health). */
  get lastKnown(): RedisReplication | null {
    return this.cached?.value ?? null;
  }

  get minReplicasSetting(): number | undefined {
    return this.opts.minReplicas;
  }

  /** Resolves once WAIT confirms the replicas required; throws RedisNotReplicatedError otherwise. */
  async confirm(): Promise<void> {
    // By topology, read at most once a second: an INFO round trip on every append slowed the
    // write path under load. A reading older than that is refreshed first, not beside the write:
    // after a Sentinel promotion the cache still holds the old master's replica, and a WAIT for it
    // on the new master (which has none yet) would hold the first write for the whole timeout.
    if (this.opts.minReplicas === undefined) {
      const fresh = this.cached && Date.now() - this.cached.at < TOPOLOGY_TTL_MS;
      if (!fresh) await this.replication().catch(() => undefined);
    }
    const required = requiredReplicas(this.opts.minReplicas, this.cached?.value.replicas ?? 0);
    if (required === 0) return;
    const conn = this.connection();
    if (!conn) throw new RedisNotReplicatedError(required, 0, this.opts.timeoutMs);
    const acked = Number(await conn.wait(required, this.opts.timeoutMs));
    if (acked < required) {
      this.cached = null; // a replica may have gone: read the topology afresh next time
      throw new RedisNotReplicatedError(required, acked, this.opts.timeoutMs);
    }
  }
}
