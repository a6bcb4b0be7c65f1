/**
 * sha256 of a model file, cached beside it (`<file>.sha256.json`, keyed by size + mtime) because
 * real models run from 100 MB to several GB and a node should not re-hash one on every start.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';

interface ChecksumCache {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export async function fileChecksum(file: string): Promise<string> {
  const st = await stat(file);
  const cachePath = `${file}.sha256.json`;
  try {
    const cached = JSON.parse(await readFile(cachePath, 'utf8')) as Partial<ChecksumCache>;
    if (
      cached.size === st.size &&
      cached.mtimeMs === st.mtimeMs &&
      typeof cached.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(cached.sha256)
    ) {
      return cached.sha256;
    }
  } catch {
    // No cache yet, or one torn by a concurrent writer: hash again.
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  const entry: ChecksumCache = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  const tmp = `${cachePath}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(entry)}\n`);
    await rename(tmp, cachePath);
  } catch {
    // A read-only model folder still works; it is just hashed on every start.
  }
  return sha256;
}
