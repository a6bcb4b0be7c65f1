/** Durable file replacement: write a temp file, fsync it, rename it over the old one. */
import { open, rename, writeFile } from 'node:fs/promises';

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, bytes);
  const fd = await open(tmp, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
  await rename(tmp, path);
}
