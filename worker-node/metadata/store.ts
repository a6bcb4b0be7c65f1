/**
 * The node's durable state in SQLite (WAL): documents, their passages (each with its FAISS label,
 * span and vector), and the node's own state (applied log position, epoch, role, model identity,
 * label counter).
 *
 * SQLite is the source of truth. Every log entry is applied in one transaction that also moves
 * `applied_seq`, so after a crash the store is exactly at some log position; the FAISS index is a
 * cache of it that can always be rebuilt (or topped up) from the stored vectors.
 *
 * FAISS labels are positions (faiss-node has no add_with_ids), one per passage: each upsert takes
 * the next labels for its passages, the document's previous passages become tombstones (their rows
 * are gone) in the same transaction, and compaction renumbers the live passages 0..n-1 when
 * tombstones pile up (index-generation.ts: in small chunks on a thread of its own, so the event
 * loop keeps answering; `compact()` here is the one-shot form for start-up).
 *
 * Versions: a log entry may carry the version the master gave the write when it accepted it.
 * Applying never replaces a newer version of an id with an older one, and a delete leaves its
 * version behind (`deleted_versions`), so a retried job that re-appends an old write changes nothing.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { compareSeq, SEQ_ZERO } from '../../shared/stream-id.ts';
import type { PassageSpan } from '../embedder/passages.ts';
import {
  type ApplyEntry,
  type EmbeddedPassage,
  type IndexChanges,
  type LabelledPassage,
  type ModelIdentity,
  passagesOf,
  type StoredDoc,
} from './entries.ts';
import { KeywordTables } from './keyword-tables.ts';
import { PassageLabels } from './passage-labels.ts';
import { type DocRow, migrate, prepareStatements } from './schema.ts';

export type { ApplyEntry, EmbeddedPassage, IndexChanges, LabelledPassage, ModelIdentity, StoredDoc };
export { passagesOf };

export class ModelMismatchError extends Error {
  override name = 'ModelMismatchError';
}

export class MetadataStore {
  readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepareStatements>;
  /** `applied_seq` as last read (see appliedSeq); undefined once written. */
  private appliedSeqRead: string | undefined;
  /** The keyword index and the metadata table of the pre-filter, kept with every applied entry. */
  readonly keyword: KeywordTables;
  /** Label pages and renumbering (compaction, Flat snapshots). */
  readonly labels: PassageLabels;
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
    this.labels = new PassageLabels(this.db);
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
    if (key === 'applied_seq') this.appliedSeqRead = undefined;
  }

  /**
   * The log position the data is at. Every search and /health asks, so it is read once per
   * change: this connection is the only one that writes it, and each write forgets what was read.
   */
  get appliedSeq(): string {
    this.appliedSeqRead ??= this.getState('applied_seq') ?? SEQ_ZERO;
    return this.appliedSeqRead;
  }

  get nextLabel(): number {
    return Number(this.getState('next_label') ?? 0);
  }

  /** Bumped by every compaction: an index snapshot of another generation has other labels. */
  get generation(): number {
    return this.labels.generation;
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
    return this.labels.compactionInterrupted;
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
        const previousRow = this.keyword.rowidOf(entry.id);
        if (previousRow !== undefined) {
          // Every passage of the old text goes, whatever the new text's passages are.
          changes.tombstoned.push(...this.stmts.passageLabels.all(previousRow));
          this.stmts.dropPassages.run(previousRow);
        }
        if (entry.op === 'upsert') {
          const { rowid } = this.stmts.upsert.get({
            id: entry.id,
            text: entry.text,
            metadata: JSON.stringify(entry.metadata),
            seq: entry.seq,
            writeVersion: entry.version ?? 0,
          })!;
          passagesOf(entry).forEach((p, ordinal) => {
            const label = nextLabel++;
            const blob = Buffer.from(p.vector.buffer, p.vector.byteOffset, p.vector.byteLength);
            this.stmts.addPassage.run(label, rowid, ordinal, p.start, p.end, blob);
            changes.added.push({ label, id: entry.id, ordinal, vector: p.vector });
          });
          this.keyword.put(rowid, entry.text, entry.metadata);
          this.stmts.forgetDeleted.run(entry.id);
          if (previousRow === undefined) liveDelta++;
        } else {
          if (previousRow !== undefined) {
            this.keyword.remove(previousRow);
            this.stmts.remove.run(entry.id);
            liveDelta--;
          }
          if (entry.version !== undefined) this.stmts.rememberDeleted.run(entry.id, entry.version);
        }
      }
      this.setState('applied_seq', applied);
      this.setState('next_label', nextLabel);
    });
    try {
      tx();
    } finally {
      // Read inside a transaction that rolled back, it would be a position the data is not at.
      this.appliedSeqRead = undefined;
    }
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
    if (ids.length === 0) return out;
    for (const row of this.stmts.getDocs.all(JSON.stringify(ids))) out.set(row.id, toDoc(row));
    return out;
  }

  /** The spans of each document's passages, in order (a search reports the best one). */
  spansOf(ids: readonly string[]): Map<string, PassageSpan[]> {
    return new Map(ids.map((id) => [id, this.stmts.spansOf.all(id)]));
  }

  /**
   * Label → document id and label → the passage's place in it, for every live passage (null and 0
   * for tombstones), to map search hits.
   */
  passageMap(): { ids: (string | null)[]; ordinals: number[] } {
    const ids: (string | null)[] = new Array(this.nextLabel).fill(null);
    const ordinals: number[] = new Array(this.nextLabel).fill(0);
    const rows = this.db
      .prepare(
        'SELECT d.id AS id, p.label AS label, p.ordinal AS ordinal FROM passages p JOIN documents d ON d.rowid = p.doc',
      )
      .iterate() as Iterable<{ id: string; label: number; ordinal: number }>;
    for (const row of rows) {
      ids[row.label] = row.id;
      ordinals[row.label] = row.ordinal;
    }
    return { ids, ordinals };
  }

  /** Label → document id for every live passage (null for tombstones). */
  labelMap(): (string | null)[] {
    return this.passageMap().ids;
  }

  /** Vectors of the live passages with label >= fromLabel, in label order (for rebuilding the index). */
  *vectorsFrom(fromLabel: number): Generator<{ label: number; vector: Float32Array }> {
    const rows = this.db
      .prepare('SELECT label, vector FROM passages WHERE label >= ? ORDER BY label')
      .iterate(fromLabel) as Iterable<{
      label: number;
      vector: Buffer;
    }>;
    for (const row of rows) yield { label: row.label, vector: toVector(row.vector) };
  }

  beginCompaction(): void {
    this.labels.beginCompaction();
  }

  /** Ends a renumbering: labels are 0..n-1 and a new generation starts (one transaction). */
  finishCompaction(liveRows: number): void {
    this.db.transaction(() => {
      this.setState('next_label', liveRows);
      this.setState('generation', this.generation + 1);
      this.setState('compacting', 0);
    })();
  }

  /**
   * Renumbers live passages to labels 0..n-1 in one go (start-up, before the node serves), in the
   * order of their current labels. A renumbering cut short leaves labels in their old order; one
   * by a version before the one-pass renumbering may also have left negative placeholders: every
   * passage first moves below the lowest label there is, so no step meets a label still in use.
   */
  compact(): void {
    const labels = this.db.prepare('SELECT label FROM passages ORDER BY label').pluck().all() as number[];
    const below = Math.min(labels[0] ?? 0, 0) - 1;
    const setLabel = this.db.prepare('UPDATE passages SET label = ? WHERE label = ?');
    this.db.transaction(() => {
      labels.forEach((label, i) => setLabel.run(below - i, label));
      this.db.prepare('UPDATE passages SET label = ? - label').run(below);
      this.finishCompaction(labels.length);
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
