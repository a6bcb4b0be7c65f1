/**
 * The metadata database's schema (created or upgraded in place on open) and its prepared
 * statements. Kept apart from store.ts so the store reads as what it does, not how rows are laid out.
 *
 * A document is one `documents` row (its text and metadata) and one `passages` row per passage:
 * the FAISS label, the span of the text it covers and its vector. Passages point at the document's
 * rowid, which is stable (upserts update the row in place, and nothing VACUUMs the database).
 */
import type Database from 'better-sqlite3';
import { createKeywordTables } from './keyword-tables.ts';
import type { StoredDoc } from './store.ts';

export type DocRow = Omit<StoredDoc, 'metadata'> & { metadata: string };
export const DOC_COLUMNS = 'id, text, metadata, version, updated_seq';

const CREATE_DOCUMENTS = `CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  metadata TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_seq TEXT NOT NULL,
  write_version INTEGER NOT NULL DEFAULT 0
)`;

/** Creates the tables, and adds what older data directories lack. */
export function migrate(db: Database.Database): void {
  db.exec(`
    ${CREATE_DOCUMENTS};
    CREATE TABLE IF NOT EXISTS passages (
      label INTEGER NOT NULL UNIQUE,
      doc INTEGER NOT NULL,
      ordinal INTEGER NOT NULL,
      start INTEGER NOT NULL,
      end INTEGER NOT NULL,
      vector BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc, ordinal);
    CREATE TABLE IF NOT EXISTS node_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS deleted_versions (id TEXT PRIMARY KEY, version INTEGER NOT NULL);
  `);
  const columns = db.prepare('PRAGMA table_info(documents)').all() as { name: string }[];
  if (columns.some((c) => c.name === 'vector')) moveVectorsToPassages(db, columns);
  createKeywordTables(db);
}

/**
 * A data directory from before passages kept one vector (and label) per document row: each becomes
 * the document's only passage, over its whole text, under the same label (so an index snapshot
 * stays valid), and the row is rebuilt without them, keeping its rowid (the keyword tables use it).
 */
function moveVectorsToPassages(db: Database.Database, columns: { name: string }[]): void {
  const writeVersion = columns.some((c) => c.name === 'write_version') ? 'write_version' : '0';
  db.transaction(() => {
    const addPassage = db.prepare(
      'INSERT INTO passages (label, doc, ordinal, start, end, vector) VALUES (?, ?, 0, 0, ?, ?)',
    );
    const rows = db.prepare('SELECT rowid, label, text, vector FROM documents').iterate() as Iterable<{
      rowid: number;
      label: number;
      text: string;
      vector: Buffer;
    }>;
    // Gathered first: better-sqlite3 cannot write while a statement still iterates.
    const passages = [...rows].map((r) => [r.label, r.rowid, r.text.length, r.vector] as const);
    for (const p of passages) addPassage.run(...p);
    db.exec(`
      ALTER TABLE documents RENAME TO documents_before_passages;
      ${CREATE_DOCUMENTS};
      INSERT INTO documents (rowid, id, text, metadata, version, updated_seq, write_version)
        SELECT rowid, id, text, metadata, version, updated_seq, ${writeVersion} FROM documents_before_passages;
      DROP TABLE documents_before_passages;
    `);
  })();
}

/** The node's own state (node_state): one value per key. */
export const GET_STATE_SQL = 'SELECT value FROM node_state WHERE key = ?';
export const SET_STATE_SQL =
  'INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value';

export function prepareStatements(db: Database.Database) {
  return {
    getState: db.prepare<[string], { value: string }>(GET_STATE_SQL),
    setState: db.prepare(SET_STATE_SQL),
    getDoc: db.prepare<[string], DocRow>(`SELECT ${DOC_COLUMNS} FROM documents WHERE id = ?`),
    /** The documents whose ids the JSON array lists: one statement for any number of ids. */
    getDocs: db.prepare<[string], DocRow>(
      `SELECT ${DOC_COLUMNS} FROM documents WHERE id IN (SELECT value FROM json_each(?))`,
    ),
    getWriteVersion: db.prepare<[string, string], { v: number }>(
      `SELECT MAX(v) AS v FROM (SELECT write_version AS v FROM documents WHERE id = ?
         UNION ALL SELECT version AS v FROM deleted_versions WHERE id = ?)`,
    ),
    upsert: db.prepare<
      [{ id: string; text: string; metadata: string; seq: string; writeVersion: number }],
      { rowid: number }
    >(
      `INSERT INTO documents (id, text, metadata, version, updated_seq, write_version)
         VALUES (@id, @text, @metadata, 1, @seq, @writeVersion)
       ON CONFLICT(id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata,
         version = documents.version + 1, updated_seq = excluded.updated_seq,
         write_version = excluded.write_version
       RETURNING rowid`,
    ),
    remove: db.prepare('DELETE FROM documents WHERE id = ?'),
    passageLabels: db.prepare<[number], number>('SELECT label FROM passages WHERE doc = ?').pluck(),
    dropPassages: db.prepare('DELETE FROM passages WHERE doc = ?'),
    addPassage: db.prepare(
      'INSERT INTO passages (label, doc, ordinal, start, end, vector) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    spansOf: db.prepare<[string], { start: number; end: number }>(
      `SELECT p.start AS start, p.end AS end FROM passages p
         WHERE p.doc = (SELECT rowid FROM documents WHERE id = ?) ORDER BY p.ordinal`,
    ),
    forgetDeleted: db.prepare('DELETE FROM deleted_versions WHERE id = ?'),
    rememberDeleted: db.prepare(
      `INSERT INTO deleted_versions (id, version) VALUES (?, ?)
       ON CONFLICT(id) DO UPDATE SET version = MAX(version, excluded.version)`,
    ),
  };
}
