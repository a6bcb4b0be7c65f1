/**
 * The label side of the passages table: what a compaction and a Flat snapshot read and write.
 *
 * It needs nothing but a connection, so the same code runs on the node's main connection and on
 * the reorganiser thread's own one (reorganiser-worker.ts), where a compaction's pages and a
 * snapshot's vectors are read and the renumbering is written without holding the event loop.
 */
import type Database from 'better-sqlite3';
import { GET_STATE_SQL, SET_STATE_SQL } from './schema.ts';

/**
 * A page of live passages in label order, packed for a postMessage: labels and their vectors in
 * one block. No document ids: the engine's label map already holds them (strings made here would
 * be copied across and churn the event loop's young heap).
 */
export interface LivePage {
  labels: number[];
  /** `labels.length` vectors back to back. */
  vectors: Float32Array;
}

export class PassageLabels {
  private readonly getState: Database.Statement<[string], { value: string }>;
  private readonly setState: Database.Statement<[string, string]>;
  private readonly vectorPageStmt: Database.Statement<[number, number], { label: number; vector: Buffer }>;
  private readonly setLabel: Database.Statement<[number, number]>;

  constructor(private readonly db: Database.Database) {
    this.getState = db.prepare(GET_STATE_SQL);
    this.setState = db.prepare(SET_STATE_SQL);
    this.vectorPageStmt = db.prepare(
      'SELECT label, vector FROM passages WHERE label > ? ORDER BY label LIMIT ?',
    );
    this.setLabel = db.prepare('UPDATE passages SET label = ? WHERE label = ?');
  }

  /** Bumped by every compaction: an index snapshot of another generation has other labels. */
  get generation(): number {
    return Number(this.getState.get('generation')?.value ?? 0);
  }

  /** Set while a chunked compaction renumbers labels; found at start-up, it means one was cut short. */
  get compactionInterrupted(): boolean {
    return this.getState.get('compacting')?.value === '1';
  }

  beginCompaction(): void {
    this.setState.run('compacting', '1');
  }

  /** Up to `limit` live passages with a label above `afterLabel`, in label order (keyset pages). */
  livePage(afterLabel: number, limit: number): LivePage {
    const rows = this.vectorBytesAfter(afterLabel, limit);
    const dimension = rows.length === 0 ? 0 : rows[0]!.vector.byteLength / 4;
    const vectors = new Float32Array(rows.length * dimension);
    const bytes = new Uint8Array(vectors.buffer);
    rows.forEach((r, i) => bytes.set(r.vector, i * dimension * 4));
    return { labels: rows.map((r) => r.label), vectors };
  }

  /** The document id and passage ordinal of each live label among `labels` (absent: no such passage). */
  identities(labels: readonly number[]): Map<number, { id: string; ordinal: number }> {
    const found = new Map<number, { id: string; ordinal: number }>();
    for (let i = 0; i < labels.length; i += 500) {
      const chunk = labels.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT p.label AS label, d.id AS id, p.ordinal AS ordinal FROM passages p
             JOIN documents d ON d.rowid = p.doc WHERE p.label IN (${chunk.map(() => '?').join(',')})`,
        )
        .all(...chunk) as { label: number; id: string; ordinal: number }[];
      for (const r of rows) found.set(r.label, { id: r.id, ordinal: r.ordinal });
    }
    return found;
  }

  /**
   * The stored vectors (raw float32 bytes) of up to `limit` passages with a label above
   * `afterLabel`, in label order: what a Flat snapshot writes, without the document join.
   */
  vectorBytesAfter(afterLabel: number, limit: number): { label: number; vector: Buffer }[] {
    return this.vectorPageStmt.all(afterLabel, limit);
  }

  /**
   * The whole renumbering of a compaction, `page` passages per transaction: `labels[i]` is the old
   * label of the passage that becomes label i (ascending: a passage's new label is its rank among
   * the live ones, never above its old label). Marks the compaction begun first; the caller ends
   * it (MetadataStore.finishCompaction) when it swaps the index.
   *
   * One pass in rank order, each row written once, and none that keeps its label: when the passage
   * of rank i takes label i, the only passage that can still hold label i is itself (any other
   * passage with old label i ranks below i, so has moved already), so the UNIQUE constraint holds
   * at every step. Cut short, labels are still in the old order (moved ones 0..k, the rest above),
   * which is all the one-shot renumbering at the next start (MetadataStore.compact) needs.
   */
  renumber(labels: readonly number[] | Float64Array, page: number): void {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]! < i || (i > 0 && labels[i]! <= labels[i - 1]!))
        throw new Error(
          `renumbering needs ascending old labels, each at or above its rank (label ${labels[i]} at ${i})`,
        );
    }
    this.beginCompaction();
    for (let start = 0; start < labels.length; start += page)
      this.renumberChunk(labels.slice(start, start + page), start);
  }

  /** One transaction of `renumber`: the passage at `labels[i]` takes label `start + i`. */
  renumberChunk(labels: ArrayLike<number>, start: number): void {
    this.db.transaction(() => {
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] !== start + i) this.setLabel.run(start + i, labels[i]!);
      }
    })();
  }
}
