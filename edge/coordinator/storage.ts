/**
 * The coordinator's SQLite tables (Durable Object `ctx.storage.sql`) behind typed accessors.
 *
 * Everything the cluster must not forget across an eviction or a restart lives here: the node
 * registry, the master and the epoch (the fence the edge stamps on writes), the recent probe
 * signals, probe counters and failover records. Writes are synchronous (SQLite in the object),
 * so a value is durable before the next `await` lets any other call in.
 */
import type { Signal } from '../detector.ts';
import type { FailoverRecord } from '../failover.ts';
import type { SeedNode } from '../config.ts';
import { HISTORY_LIMIT, REQUEST_HISTORY_LIMIT } from '../detector.ts';

export interface NodeRow extends SeedNode {
  registeredAt: number;
}

type Meta =
  | 'epoch'
  | 'master'
  | 'seeded'
  | 'alarm_armed_at'
  | 'alarm_armed_by'
  | 'failover_count'
  | 'note'
  | 'forget_peers';

export class CoordinatorStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, url TEXT NOT NULL, priority INTEGER NOT NULL, registered_at INTEGER NOT NULL)`,
    );
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS signals (node TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL)`,
    );
    sql.exec(`CREATE INDEX IF NOT EXISTS signals_node_at ON signals (node, at)`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS probe_counts (node TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (node, outcome))`,
    );
    sql.exec(
      `CREATE TABLE IF NOT EXISTS failovers (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, done INTEGER NOT NULL, body TEXT NOT NULL)`,
    );
  }

  /**
   * Removed nodes the log's trim set still holds: the master is told to forget each one (it may
   * be down when the node is removed, so the list survives until a master confirms).
   */
  get peersToForget(): string[] {
    return JSON.parse(this.getMeta('forget_peers') ?? '[]') as string[];
  }

  set peersToForget(ids: readonly string[]) {
    this.setMeta('forget_peers', ids.length > 0 ? JSON.stringify([...new Set(ids)]) : null);
  }

  getMeta(key: Meta): string | null {
    const row = this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0];
    return row ? row.value : null;
  }

  setMeta(key: Meta, value: string | null): void {
    if (value === null) this.sql.exec(`DELETE FROM meta WHERE key = ?`, key);
    else
      this.sql.exec(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        key,
        value,
      );
  }

  get epoch(): number {
    return Number(this.getMeta('epoch') ?? 0);
  }

  /** The epoch only ever grows: a smaller value (a duplicate, late step) is ignored. */
  raiseEpoch(epoch: number): number {
    const next = Math.max(this.epoch, epoch);
    this.setMeta('epoch', String(next));
    return next;
  }

  get master(): string | null {
    return this.getMeta('master');
  }

  setMaster(id: string | null): void {
    this.setMeta('master', id);
  }

  nodes(): NodeRow[] {
    return this.sql
      .exec<{ id: string; url: string; priority: number; registered_at: number }>(
        `SELECT id, url, priority, registered_at FROM nodes ORDER BY id`,
      )
      .toArray()
      .map((r) => ({ id: r.id, url: r.url, priority: r.priority, registeredAt: r.registered_at }));
  }

  /** Inserts or updates; returns true when the node is new. */
  upsertNode(node: SeedNode, now: number): boolean {
    const existed = this.sql.exec(`SELECT 1 FROM nodes WHERE id = ?`, node.id).toArray().length > 0;
    this.sql.exec(
      `INSERT INTO nodes (id, url, priority, registered_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET url = excluded.url, priority = excluded.priority`,
      node.id,
      node.url,
      node.priority,
      now,
    );
    return !existed;
  }

  removeNode(id: string): boolean {
    const existed = this.sql.exec(`SELECT 1 FROM nodes WHERE id = ?`, id).toArray().length > 0;
    this.sql.exec(`DELETE FROM nodes WHERE id = ?`, id);
    this.sql.exec(`DELETE FROM signals WHERE node = ?`, id);
    return existed;
  }

  /** Signals per node, oldest first, as the detector wants them. */
  loadSignals(): Map<string, Signal[]> {
    const history = new Map<string, Signal[]>();
    for (const row of this.sql.exec<{ node: string; body: string }>(
      `SELECT node, body FROM signals ORDER BY at, rowid`,
    )) {
      const list = history.get(row.node) ?? [];
      list.push(JSON.parse(row.body) as Signal);
      history.set(row.node, list);
    }
    return history;
  }

  appendSignal(node: string, signal: Signal): void {
    this.sql.exec(
      `INSERT INTO signals (node, at, body) VALUES (?, ?, ?)`,
      node,
      signal.at,
      JSON.stringify(signal),
    );
    if (signal.source === 'probe') {
      this.sql.exec(
        `INSERT INTO probe_counts (node, outcome, count) VALUES (?, ?, 1) ON CONFLICT(node, outcome) DO UPDATE SET count = count + 1`,
        node,
        signal.outcome,
      );
    }
    // Keep only the detector's window (detector.recordSignal: probes and request reports apart);
    // older rows are never read again.
    const source = signal.source === 'request' ? 'request' : 'probe';
    this.sql.exec(
      `DELETE FROM signals WHERE node = ? AND json_extract(body, '$.source') = ? AND rowid NOT IN
         (SELECT rowid FROM signals WHERE node = ? AND json_extract(body, '$.source') = ? ORDER BY at DESC, rowid DESC LIMIT ?)`,
      node,
      source,
      node,
      source,
      source === 'request' ? REQUEST_HISTORY_LIMIT : HISTORY_LIMIT,
    );
  }

  probeCounts(): { node: string; outcome: string; count: number }[] {
    return this.sql
      .exec<{ node: string; outcome: string; count: number }>(
        `SELECT node, outcome, count FROM probe_counts ORDER BY node, outcome`,
      )
      .toArray();
  }

  saveFailover(record: FailoverRecord): void {
    this.sql.exec(
      `INSERT INTO failovers (id, started_at, done, body) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET done = excluded.done, body = excluded.body`,
      record.id,
      record.startedAt,
      record.step === 'done' ? 1 : 0,
      JSON.stringify(record),
    );
  }

  activeFailover(): FailoverRecord | null {
    const row = this.sql
      .exec<{ body: string }>(`SELECT body FROM failovers WHERE done = 0 ORDER BY started_at LIMIT 1`)
      .toArray()[0];
    return row ? (JSON.parse(row.body) as FailoverRecord) : null;
  }

  getFailover(id: string): FailoverRecord | null {
    const row = this.sql.exec<{ body: string }>(`SELECT body FROM failovers WHERE id = ?`, id).toArray()[0];
    return row ? (JSON.parse(row.body) as FailoverRecord) : null;
  }

  listFailovers(limit: number): FailoverRecord[] {
    return this.sql
      .exec<{ body: string }>(
        `SELECT body FROM failovers ORDER BY started_at DESC, rowid DESC LIMIT ?`,
        limit,
      )
      .toArray()
      .map((r) => JSON.parse(r.body) as FailoverRecord);
  }
}
