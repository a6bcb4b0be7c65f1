/**
 * The metadata database's schema (created or upgraded in place on open) and its prepared
 * statements. Kept apart from store.ts so the store reads as what it does, not how rows are laid out.
 */
import type Database from 'better-sqlite3';
import { createKeywordTables } from './keyword-tables.ts';
import type { StoredDoc } from './store.ts';

export type DocRow = Omit<StoredDoc, 'metadata'> & { metadata: string };
export const DOC_COLUMNS = 'id, text, metadata, label, version, updated_seq';

/** Creates the tables, and adds what older data directories lack. */
export function migrate(db: Database.Database): void {
  db.exec(`
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
    CREATE TABLE IF NOT EXISTS deleted_versions (id TEXT PRIMARY KEY, version INTEGER NOT NULL);
  `);
  const columns = db.prepare('PRAGMA table_info(documents)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'write_version'))
    db.exec('ALTER TABLE documents ADD COLUMN write_version INTEGER NOT NULL DEFAULT 0');
  createKeywordTables(db);
}

export function prepareStatements(db: Database.Database) {
  return {
    getState: db.prepare<[string], { value: string }>('SELECT value FROM node_state WHERE key = ?'),
    setState: db.prepare(
      'INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
    getDoc: db.prepare<[string], DocRow>(`SELECT ${DOC_COLUMNS} FROM documents WHERE id = ?`),
    getWriteVersion: db.prepare<[string, string], { v: number }>(
      `SELECT MAX(v) AS v FROM (SELECT write_version AS v FROM documents WHERE id = ?
         UNION ALL SELECT version AS v FROM deleted_versions WHERE id = ?)`,
    ),
    upsert: db.prepare(
      `INSERT INTO documents (id, text, metadata, label, version, updated_seq, vector, write_version)
         VALUES (@id, @text, @metadata, @label, 1, @seq, @vector, @writeVersion)
       ON CONFLICT(id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata, label = excluded.label,
         version = documents.version + 1, updated_seq = excluded.updated_seq, vector = excluded.vector,
         write_version = excluded.write_version`,
    ),
    remove: db.prepare('DELETE FROM documents WHERE id = ?'),
    forgetDeleted: db.prepare('DELETE FROM deleted_versions WHERE id = ?'),
    rememberDeleted: db.prepare(
      `INSERT INTO deleted_versions (id, version) VALUES (?, ?)
       ON CONFLICT(id) DO UPDATE SET version = MAX(version, excluded.version)`,
    ),
  };
}
