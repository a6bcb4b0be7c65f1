/**
 * What a chaos scenario reads from a node's files while it runs (read-only): the compaction
 * generation in its SQLite store, and whether its log mentions an event.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { NodeProcess } from '../cluster/node-process.ts';

/** The store's compaction counter (worker-node/metadata/store.ts `generation`), per node. */
export function compactionGenerations(nodes: readonly NodeProcess[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const node of nodes) {
    const path = join(node.dataDir, 'metadata.sqlite');
    if (!existsSync(path)) continue;
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare("SELECT value FROM node_state WHERE key = 'generation'").get() as
        | { value: string }
        | undefined;
      out[node.id] = Number(row?.value ?? 0);
    } finally {
      db.close();
    }
  }
  return out;
}

/** Where a log file ends now, to look only at what is written after (the same file, or a new one). */
export interface LogMark {
  ino: number;
  size: number;
}

export function logMark(logPath: string): LogMark {
  if (!existsSync(logPath)) return { ino: -1, size: 0 };
  const st = statSync(logPath);
  return { ino: st.ino, size: st.size };
}

/** Whether the node's log (JSON lines) has an entry for `event` written after `mark`. */
export function logMentions(logPath: string, event: string, mark?: LogMark): boolean {
  if (!existsSync(logPath)) return false;
  const from = mark && statSync(logPath).ino === mark.ino ? mark.size : 0;
  return readFileSync(logPath).subarray(from).toString('utf8').includes(`"${event}"`);
}

/** The most live documents any node holds (its SQLite read beside it): how big the index is now. */
export function largestDocumentCount(nodes: readonly NodeProcess[]): number {
  let most = 0;
  for (const node of nodes) {
    const path = join(node.dataDir, 'metadata.sqlite');
    if (!existsSync(path)) continue;
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      most = Math.max(most, (db.prepare('SELECT COUNT(*) AS n FROM documents').get() as { n: number }).n);
    } finally {
      db.close();
    }
  }
  return most;
}
