/**
 * The status page in a real browser: Debian's chromium (driven by playwright-core) loads
 * GET /status from a real 2-node cluster, sees both nodes and the master; the master is killed
 * with kill -9; the page, refreshing itself, shows the new master and the failover with its steps
 * on the timeline. A screenshot goes to artifacts/status-page.png for a human to judge.
 *
 * Also: every value on the page is escaped (hostile strings rendered by the real view, loaded in
 * the browser, create no element and show as text).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusPage } from '../../edge/routes/status-page/view.tsx';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';
import { ROOT } from '../../scripts/cluster/node-process.ts';
import type { ClusterStatus, FailoverReport } from '../../shared/edge-api.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'artifacts', 'status-page.png');

let cluster: Cluster | undefined;
let browser: Browser | undefined;

/** Polls `probe` until it returns a value; errors count as "not yet" (the page may be mid-reload). */
async function until<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

/** Text of a selector on the current document, or null while the page is reloading. */
async function text(page: Page, selector: string): Promise<string | null> {
  return page.locator(selector).first().textContent({ timeout: 1000 });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no browser at ${CHROMIUM}: run \`npm run setup\` (it installs Debian's chromium) or \`apt-get install -y chromium\``,
    );
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('GET /status in chromium', () => {
  it('shows both nodes and the master, then the new master and the failover timeline after kill -9 of the master', async () => {
    // Probing every 500 ms (3 failures → failover) keeps the wait for the failover short.
    cluster = await startCluster({ nodes: 2, edgeVars: { PROBE_INTERVAL_MS: '500' } });
    const edge = cluster.state.edge_url;
    // With the admin token: the failover steps this test reads are internals (routes/status-page.tsx).
    const page = await browser!.newPage({
      viewport: { width: 1200, height: 900 },
      extraHTTPHeaders: { authorization: `Bearer ${cluster.state.admin_token}` },
    });
    const response = await page.goto(`${edge}/status`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/text\/html/);

    const rows = page.locator('#nodes tr[data-node]');
    await expect.poll(() => rows.count()).toBe(2);
    expect((await rows.allTextContents()).join(' ')).toMatch(/node-1[\s\S]*node-2/);
    const oldMaster = (await text(page, '#master'))!.trim();
    expect(['node-1', 'node-2']).toContain(oldMaster);
    expect(await page.locator(`tr[data-node="${oldMaster}"]`).getAttribute('data-role')).toBe('master');
    expect(await text(page, '#epoch')).toMatch(/^\d+$/);
    const epochBefore = Number(await text(page, '#epoch'));

    const victim = cluster.nodes.find((n) => n.id === oldMaster)!;
    process.kill(victim.child.pid!, 'SIGKILL');

    // No reload from the test: the page's own refresh must bring the new master in.
    const newMaster = await until(
      async () => {
        const m = (await text(page, '#master'))?.trim();
        return m && m !== oldMaster && m !== 'none' ? m : null;
      },
      60_000,
      'the page to show a new master',
    );
    expect(['node-1', 'node-2']).toContain(newMaster);
    const failover = page.locator('#failovers section[data-kind="failover"]').first();
    await until(
      async () => (await failover.getAttribute('data-outcome', { timeout: 1000 })) === 'succeeded',
      30_000,
      'the failover to show as succeeded',
    );
    const steps = await failover
      .locator('li[data-step]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(steps).toEqual(
      expect.arrayContaining(['fence', 'degrade', 'activate', 'route', 'verify', 'report']),
    );
    expect(await failover.textContent()).toContain(`${oldMaster} → ${newMaster}`);
    expect(Number(await text(page, '#epoch'))).toBeGreaterThan(epochBefore);
    await until(
      async () =>
        (await page.locator(`tr[data-node="${oldMaster}"]`).getAttribute('data-state', { timeout: 1000 })) ===
        'down',
      30_000,
      'the killed node to show as down',
    );
    expect(await page.locator(`tr[data-node="${newMaster}"]`).getAttribute('data-role')).toBe('master');

    mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
    // Right after a refresh, so the screenshot is of a whole page.
    await page.waitForEvent('load', { timeout: 10_000 });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.close();
  }, 150_000);

  it('escapes every value it shows', async () => {
    const evil = `<img src=x onerror="document.title='pwned'"><script>window.pwned=1</script>"'&`;
    const status: ClusterStatus = {
      current_master: 'node-1',
      epoch: 2,
      standby_status: 'down',
      failover_in_progress: false,
      last_failover: null,
      coordinator: {
        alarm_at: null,
        alarm_armed_at: null,
        alarm_armed_by: null,
        probe_interval_ms: 2000,
        note: evil,
      },
      nodes: [
        {
          id: 'node-1',
          url: `http://a/?q=${evil}`,
          priority: 100,
          role: 'master',
          state: 'up',
          applied_seq: evil,
          lag_entries: 0,
          lag_ms: 0,
          last_probe_ms: 3,
          last_probe_at: 1,
          consecutive_failures: 0,
          gpu: null,
          parts: { embedder: 'ok', index: 'ok', applier: 'ok', redis: 'unreachable', disk: evil },
          write_path: `disk: ${evil}`,
          failed_jobs: 2,
          last_failed_job: { job_id: '17', reason: evil, at: 1 },
        },
      ],
    };
    const report: FailoverReport = {
      id: 'fo-1',
      kind: 'failover',
      outcome: 'succeeded',
      from: 'node-0',
      to: 'node-1',
      epoch: 2,
      started_at: 1000,
      finished_at: 2000,
      duration_ms: 1000,
      reason: evil,
      tried: ['node-1'],
      trigger: [{ at: 900, outcome: 'connect_error', source: 'probe', message: evil }],
      steps: [{ step: 'activate', node: 'node-1', epoch: 2, at: 1500, ok: false, detail: evil }],
      old_master_health: null,
      diagnostics: null,
    };
    const html = `<!doctype html>${StatusPage({ status, failovers: [{ summary: report, report }], now: 5000, refreshSeconds: 3600 }).toString()}`;
    expect(html).not.toContain('<script>window.pwned');
    expect(html).not.toContain('<img src=x');

    const page = await browser!.newPage();
    await page.setContent(html);
    expect(await page.locator('img, script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.title()).not.toBe('pwned');
    // Shown as text, exactly.
    expect(await page.locator('li[data-step="activate"]').textContent()).toContain(evil);
    expect(await page.locator('tr[data-node="node-1"]').textContent()).toContain(evil);
    // A node that cannot write, and ingest jobs that failed, are shown with their reasons.
    expect(await page.locator('[data-write-path]').textContent()).toBe(`cannot take writes: disk: ${evil}`);
    const failed = page.locator('[data-failed-jobs="2"]');
    expect(await failed.textContent()).toContain(`2 ingest job(s) failed · newest: job 17`);
    expect(await failed.textContent()).toContain(evil);
    await page.close();
  });
});
