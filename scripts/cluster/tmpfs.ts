/**
 * Small tmpfs mounts for node data directories (a chaos cluster that fills a node's disk, the
 * disk-full-master scenario in scripts/chaos/gray-scenarios.ts). Mounting needs root; when it
 * fails the caller gets the reason instead of an exception, and says it skipped what needed it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export type MountResult = { mounted: true } | { mounted: false; reason: string };

export function mountTmpfs(dir: string, sizeMb: number): MountResult {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return { mounted: true };
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { mounted: false, reason: `mount -t tmpfs on ${dir} failed: ${stderr || (err as Error).message}` };
  }
}

/** Unmounts (lazily, so a file still open does not keep it); best effort. */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    /* not mounted, or already gone */
  }
}
