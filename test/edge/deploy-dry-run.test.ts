/**
 * `wrangler deploy --dry-run` bundles the Worker exactly as a real deploy would (same
 * wrangler.toml, same esbuild pipeline) without the network: it catches a binding, migration or
 * import that only breaks at deploy time.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/miniflare.ts';

const run = promisify(execFile);

describe('wrangler deploy --dry-run', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'gte-dryrun-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('bundles the Worker with the Durable Object class and the cron', async () => {
    const { stdout, stderr } = await run(
      join(REPO_ROOT, 'node_modules', '.bin', 'wrangler'),
      ['deploy', '--dry-run', '--outdir', outdir],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
        timeout: 120_000,
      },
    );
    const output = stdout + stderr;
    expect(output).toMatch(/--dry-run: exiting now/);
    expect(output).toMatch(/COORDINATOR/);
    const bundle = join(outdir, 'index.js');
    expect(existsSync(bundle)).toBe(true);
    const code = readFileSync(bundle, 'utf8');
    expect(code).toMatch(/ClusterCoordinator = class extends DurableObject/);
    expect(code).toMatch(/scheduled/);
  });
});
