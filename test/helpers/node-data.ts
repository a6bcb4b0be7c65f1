/**
 * Reads a node's SQLite store directly (read-only, beside the running node: WAL lets another
 * process read a consistent snapshot), so a test can compare two nodes' full document sets
 * without thousands of HTTP calls.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';

export interface DocVersion {
  version: number;
  text: string;
}

/** id → version and text of every live document in the node's data directory. */
export function readDocuments(dataDir: string): Map<string, DocVersion> {
  const db = new Database(join(dataDir, 'metadata.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT id, version, text FROM documents').all() as ({
      id: string;
    } & DocVersion)[];
    return new Map(rows.map((r) => [r.id, { version: r.version, text: r.text }]));
  } finally {
    db.close();
  }
}

/** What a sequence of acknowledged operations must leave behind: id → expected version and text. */
export class ExpectedDocs {
  readonly docs = new Map<string, DocVersion>();

  upserted(id: string, text: string): void {
    // A document deleted and upserted again starts over at version 1 (its row was removed).
    this.docs.set(id, { version: (this.docs.get(id)?.version ?? 0) + 1, text });
  }

  deleted(id: string): void {
    this.docs.delete(id);
  }
}
