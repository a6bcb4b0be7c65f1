/**
 * The node's durable state in SQLite (WAL): documents with their FAISS label and vector, and the
 * node's own state (applied log position, epoch, role, model identity, label counter).
 *
 * SQLite is the source of truth. Every log entry is applied in one transaction that also moves
 * `applied_seq`, so after a crash the store is exactly at some log position; the FAISS index is a
 * cache of it that can always be rebuilt (or topped up) from the stored vectors.
 *
 * FAISS labels are positions (faiss-node has no add_with_ids): each upsert takes the next label,
 * the document's previous label becomes a tombstone (no row points at it), and `compact()`
 * renumbers the live rows 0..n-1 when tombstones pile up.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { compareSeq, SEQ_ZERO } from '../replication/seq.ts';

export interface StoredDoc {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  label: number;
  version: number;
  updated_seq: string;
}

export interface ModelIdentity {
  id: string;
  checksum: string;
  dimension: number;
}

/** One change-log entry as the store applies it (the replication layer decodes the stream). */
export type ApplyEntry =
  | {
      seq: string;
      op: 'upsert';
      id: string;
      text: string;
      metadata: Record<string, unknown>;
      vector: Float32Array;
    }
  | { seq: string; op: 'delete'; id: string };

/** What the index must do after a batch was committed. */
export interface IndexChanges {
  /** New labels in order, with the document each one holds (it may be superseded within the batch). */
  added: { label: number; id: string; vector: Float32Array }[];
  tombstoned: number[];
}

export class ModelMismatchError extends Error {}

export class MetadataStore {
  readonly db: Database.Database;
  private readonly stmts;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS documents (
        id TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        label INTEGER NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        updated_seq TEXT NOT NULL,
        vector BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS node_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    this.stmts = {
      getState: this.db.prepare<[string], { value: string }>('SELECT value FROM node_state WHERE key = ?'),
      setState: this.db.prepare(
        'INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      getDoc: this.db.prepare<[string], Omit<StoredDoc, 'metadata'> & { metadata: string }>(
        'SELECT id, text, metadata, label, version, updated_seq FROM documents WHERE id = ?',
      ),
      upsert: this.db.prepare(
        `INSERT INTO documents (id, text, metadata, label, version, updated_seq, vector) VALUES (@id, @text, @metadata, @label, 1, @seq, @vector)
         ON CONFLICT(id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata, label = excluded.label,
           version = documents.version + 1, updated_seq = excluded.updated_seq, vector = excluded.vector`,
      ),
      remove: this.db.prepare('DELETE FROM documents WHERE id = ?'),
      count: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM documents'),
    };
  }

  getState(key: string): string | undefined {
    return this.stmts.getState.get(key)?.value;
  }

  setState(key: string, value: string | number): void {
    this.stmts.setState.run(key, String(value));
  }

  get appliedSeq(): string {
    return this.getState('applied_seq') ?? SEQ_ZERO;
  }

  get nextLabel(): number {
    return Number(this.getState('next_label') ?? 0);
  }

  /** Bumped by every compaction: an index snapshot of another generation has other labels. */
  get generation(): number {
    return Number(this.getState('generation') ?? 0);
  }

  get documentCount(): number {
    return this.stmts.count.get()!.n;
  }

  /**
   * Binds the data directory to one model. Data embedded by another model (or dimension) would
   * give meaningless scores, so opening it is refused with a message that says what to do.
   */
  bindModel(model: ModelIdentity): void {
    const stored = this.getState('model');
    if (!stored) {
      this.setState('model', JSON.stringify(model));
      return;
    }
    const was = JSON.parse(stored) as ModelIdentity;
    if (was.id !== model.id || was.dimension !== model.dimension || was.checksum !== model.checksum) {
      throw new ModelMismatchError(
        `data in ${this.path} was built with model ${was.id} (dimension ${was.dimension}, checksum ${was.checksum.slice(0, 12)}), ` +
          `but this node loads ${model.id} (dimension ${model.dimension}, checksum ${model.checksum.slice(0, 12)}). ` +
          'Point DATA_DIR at an empty directory (the node resynchronises from the cluster) or MODEL_DIR at the original model.',
      );
    }
  }

  /**
   * Applies entries in order, in one transaction, skipping any at or below the applied position
   * (idempotent: alarms, retries and replays may deliver an entry twice).
   */
  applyBatch(entries: readonly ApplyEntry[]): IndexChanges {
    const changes: IndexChanges = { added: [], tombstoned: [] };
    const tx = this.db.transaction(() => {
      let applied = this.appliedSeq;
      let nextLabel = this.nextLabel;
      for (const entry of entries) {
        if (compareSeq(entry.seq, applied) <= 0) continue;
        const previous = this.stmts.getDoc.get(entry.id);
        if (previous) changes.tombstoned.push(previous.label);
        if (entry.op === 'upsert') {
          const label = nextLabel++;
          this.stmts.upsert.run({
            id: entry.id,
            text: entry.text,
            metadata: JSON.stringify(entry.metadata),
            label,
            seq: entry.seq,
            vector: Buffer.from(entry.vector.buffer, entry.vector.byteOffset, entry.vector.byteLength),
          });
          changes.added.push({ label, id: entry.id, vector: entry.vector });
        } else if (previous) {
          this.stmts.remove.run(entry.id);
        }
        applied = entry.seq;
      }
      this.setState('applied_seq', applied);
      this.setState('next_label', nextLabel);
    });
    tx();
    return changes;
  }

  getDocument(id: string): StoredDoc | undefined {
    const row = this.stmts.getDoc.get(id);
    return row ? { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> } : undefined;
  }

  /** Documents for the given labels (live ones only), keyed by label. */
  documentsByLabels(labels: readonly number[]): Map<number, StoredDoc> {
    const out = new Map<number, StoredDoc>();
    for (let i = 0; i < labels.length; i += 500) {
      const chunk = labels.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT id, text, metadata, label, version, updated_seq FROM documents WHERE label IN (${chunk.map(() => '?').join(',')})`,
        )
        .all(...chunk) as (Omit<StoredDoc, 'metadata'> & { metadata: string })[];
      for (const row of rows)
        out.set(row.label, { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> });
    }
    return out;
  }

  /** Label → document id for every live document (null for tombstones), to map search hits. */
  labelMap(): (string | null)[] {
    const map: (string | null)[] = new Array(this.nextLabel).fill(null);
    for (const row of this.db.prepare('SELECT id, label FROM documents').iterate() as Iterable<{
      id: string;
      label: number;
    }>) {
      map[row.label] = row.id;
    }
    return map;
  }

  /** Vectors of the live rows with label >= fromLabel, in label order (for rebuilding the index). */
  *vectorsFrom(fromLabel: number): Generator<{ label: number; vector: Float32Array }> {
    const rows = this.db
      .prepare('SELECT label, vector FROM documents WHERE label >= ? ORDER BY label')
      .iterate(fromLabel) as Iterable<{
      label: number;
      vector: Buffer;
    }>;
    for (const row of rows) {
      const copy = new Float32Array(row.vector.byteLength / 4);
      new Uint8Array(copy.buffer).set(row.vector);
      yield { label: row.label, vector: copy };
    }
  }

  /** Renumbers live rows to labels 0..n-1 (one transaction) and starts a new generation. */
  compact(): void {
    const tx = this.db.transaction(() => {
      const ids = this.db.prepare('SELECT id FROM documents ORDER BY label').pluck().all() as string[];
      // Two passes through negative labels keep the UNIQUE constraint satisfied mid-way.
      const setLabel = this.db.prepare('UPDATE documents SET label = ? WHERE id = ?');
      ids.forEach((id, i) => setLabel.run(-1 - i, id));
      ids.forEach((id, i) => setLabel.run(i, id));
      this.setState('next_label', ids.length);
      this.setState('generation', this.generation + 1);
    });
    tx();
  }

  /** A consistent copy of the database (for a peer's resynchronisation). */
  async backupTo(path: string): Promise<void> {
    await this.db.backup(path);
  }

  close(): void {
    this.db.close();
  }
}
