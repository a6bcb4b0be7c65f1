/** GET /api/v1/snapshot (signed): a consistent copy of this node's SQLite database, for a peer's resync. */
import { Hono } from 'hono';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { SearchNode } from '../search-node.ts';
import type { NodeEnv, Signed } from './http.ts';

export function snapshotRoutes(node: SearchNode, signed: Signed) {
  return new Hono<NodeEnv>().get('/api/v1/snapshot', signed, async () => {
    node.replica.checkOpen();
    const dir = mkdtempSync(join(tmpdir(), 'gte-snap-'));
    const file = join(dir, 'metadata.sqlite');
    const { appliedSeq } = await node.replica.backupTo(file).catch((err: Error) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    });
    const stream = createReadStream(file);
    stream.on('close', () => rmSync(dir, { recursive: true, force: true }));
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'content-type': 'application/vnd.sqlite3',
        'content-length': String(statSync(file).size),
        'x-gte-applied-seq': appliedSeq,
      },
    });
  });
}
