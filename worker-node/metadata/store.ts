/**
 * The node's durable state in SQLite (WAL): documents with their FAISS label and vector, and the
 * node's own state (applied log position, epoch, role, model identity, label counter).
 *
 * SQLite is the source of truth. Every log entry is applied in one transaction that also moves
 * `applied_seq`, so after a crash the store is exactly at some log position; the FAISS index is a
 * cache of it that can always be rebuilt (or topped up) from the stored vectors.
 *
 * FAISS labels are positions (faiss-node has no add_with_ids): each upsert takes the next label,
 * the document's previous label becomes a tombstone (no row points at it), and compaction
 * renumbers the live rows 0..n-1 when tombstones pile up (compaction.ts: in small chunks, so the
 * event loop keeps answering; `compact()` here is the one-shot form for start-up).
 *
 * Versions: a log entry may carry the version the master gave the write when it accepted it.
 * Applying never replaces a newer version of an id with an older one, and a delete leaves its
 * version behind (`deleted_versions`), so a retried job that re-appends an old write changes nothing.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { compareSeq, SEQ_ZERO } from '../../shared/stream-id.ts';
import { KeywordTables } from './keyword-tables.ts';
import { DOC_COLUMNS, type DocRow, migrate, prepareStatements } from './schema.ts';

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
      /** The write's version (absent in entries written before versions existed: always applied). */
      version?: number;
    }
  | { seq: string; op: 'delete'; id: string; version?: number };

/** What the index must do after a batch was committed. */
export interface IndexChanges {
  /** New labels in order, with the document each one holds (it may be superseded within the batch). */
  added: { label: number; id: string; vector: Float32Array }[];
  tombstoned: number[];
  /** Entries skipped because the id already holds this write's version or a newer one. */
  superseded: number;
}

export class ModelMismatchError extends Error {
  override name = 'ModelMismatchError';
}

export class MetadataStore {
  readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepareStatements>;
  /** The keyword index and the metadata table of the pre-filter, kept with every applied entry. */
  readonly keyword: KeywordTables;
  /** Live documents, counted once at open and kept by applyBatch: /health must not scan the table. */
  private liveCount: number;
  /** The highest write version applied (kept like liveCount); the floor for versions issued here. */
  private maxVersion: number;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    migrate(this.db);
    this.stmts = prepareStatements(this.db);
    this.keyword = new KeywordTables(this.db, () => this.liveCount);
    this.liveCount = (this.db.prepare('SELECT COUNT(*) AS n FROM documents').get() as { n: number }).n;
    this.maxVersion =
      (
        this.db
          .prepare(
            `SELECT MAX(v) AS v FROM (SELECT MAX(write_version) AS v FROM documents
             UNION ALL SELECT MAX(version) AS v FROM deleted_versions)`,
          )
          .get() as { v: number | null }
      ).v ?? 0;
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

  /** The highest write version this store has applied (0 when none carried one). */
  get maxWriteVersion(): number {
    return this.maxVersion;
  }

  get documentCount(): number {
    return this.liveCount;
  }

  /** Set while a chunked compaction renumbers labels; found at start-up, it means one was cut short. */
  get compactionInterrupted(): boolean {
    return this.getState('compacting') === '1';
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
    const changes: IndexChanges = { added: [], tombstoned: [], superseded: 0 };
    let liveDelta = 0;
    let maxVersion = this.maxVersion;
    const tx = this.db.transaction(() => {
      let applied = this.appliedSeq;
      let nextLabel = this.nextLabel;
      for (const entry of entries) {
        if (compareSeq(entry.seq, applied) <= 0) continue;
        applied = entry.seq;
        if (entry.version !== undefined) {
          maxVersion = Math.max(maxVersion, entry.version);
          const held = this.stmts.getWriteVersion.get(entry.id, entry.id)?.v;
          if (held != null && held >= entry.version) {
            changes.superseded++;
            continue;
          }
        }
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
            writeVersion: entry.version ?? 0,
          });
          this.keyword.put(this.keyword.rowidOf(entry.id)!, entry.text, entry.metadata);
          this.stmts.forgetDeleted.run(entry.id);
          changes.added.push({ label, id: entry.id, vector: entry.vector });
          if (!previous) liveDelta++;
        } else {
          if (previous) {
            this.keyword.remove(this.keyword.rowidOf(entry.id)!);
            this.stmts.remove.run(entry.id);
            liveDelta--;
          }
          if (entry.version !== undefined) this.stmts.rememberDeleted.run(entry.id, entry.version);
        }
      }
      this.setState('applied_seq', applied);
      this.setState('next_label', nextLabel);
    });
    tx();
    this.liveCount += liveDelta;
    this.maxVersion = maxVersion;
    return changes;
  }

  getDocument(id: string): StoredDoc | undefined {
    const row = this.stmts.getDoc.get(id);
    return row ? toDoc(row) : undefined;
  }

  /** The live documents with the given ids, keyed by id (search resolves labels to ids in memory). */
  documentsByIds(ids: readonly string[]): Map<string, StoredDoc> {
    const out = new Map<string, StoredDoc>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.db
        .prepare(`SELECT ${DOC_COLUMNS} FROM documents WHERE id IN (${chunk.map(() => '?').join(',')})`)
        .all(...chunk) as DocRow[];
      for (const row of rows) out.set(row.id, toDoc(row));
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
    for (const row of rows) yield { label: row.label, vector: toVector(row.vector) };
  }

  /** Up to `limit` live rows with a label above `afterLabel`, in label order (keyset pages). */
  liveRowsAfter(afterLabel: number, limit: number): { id: string; label: number; vector: Float32Array }[] {
    const rows = this.db
      .prepare('SELECT id, label, vector FROM documents WHERE label > ? ORDER BY label LIMIT ?')
      .all(afterLabel, limit) as { id: string; label: number; vector: Buffer }[];
    return rows.map((r) => ({ id: r.id, label: r.label, vector: toVector(r.vector) }));
  }

  /**
   * One step of renumbering: `ids[i]` takes label `start + i` (pass 'final') or a negative
   * placeholder (pass 'placeholder'). All rows go through the placeholders first, so the UNIQUE
   * constraint holds between steps. One small transaction per call.
   */
  renumberChunk(ids: readonly string[], start: number, pass: 'placeholder' | 'final'): void {
    const setLabel = this.db.prepare('UPDATE documents SET label = ? WHERE id = ?');
    this.db.transaction(() => {
      ids.forEach((id, i) => setLabel.run(pass === 'final' ? start + i : -1 - (start + i), id));
    })();
  }

  beginCompaction(): void {
    this.setState('compacting', 1);
  }

  /** Ends a renumbering: labels are 0..n-1 and a new generation starts (one transaction). */
  finishCompaction(liveRows: number): void {
    this.db.transaction(() => {
      this.setState('next_label', liveRows);
      this.setState('generation', this.generation + 1);
      this.setState('compacting', 0);
    })();
  }

  /** Renumbers live rows to labels 0..n-1 in one go (start-up, before the node serves). */
  compact(): void {
    const ids = this.db.prepare('SELECT id FROM documents ORDER BY label').pluck().all() as string[];
    this.db.transaction(() => {
      this.renumberChunk(ids, 0, 'placeholder');
      this.renumberChunk(ids, 0, 'final');
      this.finishCompaction(ids.length);
    })();
  }

  /** A consistent copy of the database (for a peer's resynchronisation). */
  async backupTo(path: string): Promise<void> {
    await this.db.backup(path);
  }

  close(): void {
    this.db.close();
  }
}

function toDoc(row: DocRow): StoredDoc {
  return { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> };
}

function toVector(blob: Buffer): Float32Array {
  const copy = new Float32Array(blob.byteLength / 4);
  new Uint8Array(copy.buffer).set(blob);
  return copy;
}
