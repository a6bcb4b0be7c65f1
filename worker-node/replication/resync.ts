/**
 * Resynchronisation: a node whose log position was trimmed away cannot replay, so it copies the
 * SQLite database of the freshest peer (a signed, streamed snapshot), replaces its own, and then
 * replays the log from the copied position like after any restart.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { signRequest } from '../../shared/signing.ts';
import type { NodeLogger } from '../log.ts';
import type { ChangeLog } from './change-log.ts';
import { compareSeq } from '../../shared/stream-id.ts';

export async function resyncFromPeer(opts: {
  nodeId: string;
  dataDir: string;
  secret: string;
  log: ChangeLog;
  logger: NodeLogger;
}): Promise<{ peer: string; appliedSeq: string }> {
  const [nodes, applied, trimmed] = await Promise.all([
    opts.log.registeredNodes(),
    opts.log.appliedPositions(),
    opts.log.trimmedThrough(),
  ]);
  const peers = Object.entries(nodes)
    .filter(([id]) => id !== opts.nodeId)
    .map(([id, url]) => ({ id, url, applied: applied[id] ?? '0-0' }))
    .filter((p) => compareSeq(p.applied, trimmed) >= 0)
    .sort((a, b) => compareSeq(b.applied, a.applied));
  if (peers.length === 0)
    throw new Error(`no peer has applied past the trimmed position ${trimmed}; start a caught-up node first`);
  let lastError: Error | null = null;
  for (const peer of peers) {
    const path = '/api/v1/snapshot';
    const tmp = join(opts.dataDir, 'metadata.sqlite.download');
    try {
      const res = await fetch(`${peer.url}${path}`, {
        headers: await signRequest(opts.secret, 'GET', path, '', { node: peer.id }),
        signal: AbortSignal.timeout(120_000),
      });
      if (!res.ok || !res.body) throw new Error(`peer ${peer.id} answered ${res.status}`);
      opts.logger.info('resync.downloading', {
        peer: peer.id,
        bytes: res.headers.get('content-length'),
        peer_applied: res.headers.get('x-gte-applied-seq'),
      });
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        createWriteStream(tmp),
      );
      for (const f of ['metadata.sqlite', 'metadata.sqlite-wal', 'metadata.sqlite-shm', 'index.faiss'])
        rmSync(join(opts.dataDir, f), { force: true });
      renameSync(tmp, join(opts.dataDir, 'metadata.sqlite'));
      const appliedSeq = res.headers.get('x-gte-applied-seq') ?? '0-0';
      opts.logger.info('resync.done', { peer: peer.id, applied_seq: appliedSeq });
      return { peer: peer.id, appliedSeq };
    } catch (err) {
      lastError = err as Error;
      rmSync(tmp, { force: true });
      opts.logger.warn('resync.peer_failed', { peer: peer.id, error: lastError.message });
    }
  }
  throw new Error(`resynchronisation failed from every peer: ${lastError?.message}`);
}
