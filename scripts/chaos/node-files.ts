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

/** Whether the node's log (JSON lines) has an entry for `event` after byte `from`. */
export function logMentions(logPath: string, event: string, from = 0): boolean {
  if (!existsSync(logPath)) return false;
  return readFileSync(logPath).subarray(from).toString('utf8').includes(`"${event}"`);
}

/** The log's size now (0 when absent), to look only at what a later start writes. */
export function logSize(logPath: string): number {
  return existsSync(logPath) ? statSync(logPath).size : 0;
}
