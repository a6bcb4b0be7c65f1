/**
 * What the metadata store holds and applies, as plain types: a stored document, its passages (each
 * a span of the text with its vector, under a FAISS label), and a change-log entry as it is applied.
 * Apart from store.ts so the replication and index code can name them without the store itself.
 */
import type { PassageSpan } from '../embedder/passages.ts';

export interface StoredDoc {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  version: number;
  updated_seq: string;
}

/** A passage of a document: its span of the text and the vector it was embedded to. */
export interface EmbeddedPassage extends PassageSpan {
  vector: Float32Array;
}

/** A passage's FAISS label, its document and its place among the document's passages. */
export interface LabelledPassage {
  label: number;
  id: string;
  ordinal: number;
  vector: Float32Array;
}

interface UpsertFields {
  seq: string;
  op: 'upsert';
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  /** The write's version (absent in entries written before versions existed: always applied). */
  version?: number;
}

export interface ModelIdentity {
  id: string;
  checksum: string;
  dimension: number;
}

/**
 * One change-log entry as the store applies it (the replication layer decodes the stream). An
 * upsert carries its passages; one with a single `vector` (logs written before passages) is one
 * passage over the whole text.
 */
export type ApplyEntry =
  | (UpsertFields & { passages: EmbeddedPassage[]; vector?: undefined })
  | (UpsertFields & { vector: Float32Array; passages?: undefined })
  | { seq: string; op: 'delete'; id: string; version?: number };

/** An upsert's passages, whichever form it came in. */
export function passagesOf(entry: Extract<ApplyEntry, { op: 'upsert' }>): EmbeddedPassage[] {
  return entry.passages ?? [{ start: 0, end: entry.text.length, vector: entry.vector }];
}

/** What the index must do after a batch was committed. */
export interface IndexChanges {
  /** New labels in order, with the passage each one holds (it may be superseded within the batch). */
  added: LabelledPassage[];
  /** Labels of passages replaced or deleted: every passage of each document written or deleted. */
  tombstoned: number[];
  /** Entries skipped because the id already holds this write's version or a newer one. */
  superseded: number;
}
