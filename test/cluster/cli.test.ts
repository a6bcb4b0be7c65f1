/**
 * The ops CLI against a real 2-node cluster, run the way an operator runs it (the bin
 * entry scripts/cli/bin.mjs in a child process): ingest of a JSONL file with one bad line reports
 * that line and exits 1 while every other line becomes searchable; a second run resumes from the
 * checkpoint; status shows both nodes; an unreachable edge gets an error that says what to do.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, writeStateFile, type Cluster } from '../../scripts/cluster/launch.ts';
import { ROOT } from '../../scripts/cluster/node-process.ts';
import type { ClusterStatus } from '../../shared/edge-api.ts';
import { checkpointPath } from '../../scripts/cli/checkpoint.ts';

const run = promisify(execFile);
const CLI = join(ROOT, 'scripts', 'cli', 'bin.mjs');

let cluster: Cluster | undefined;
let dir: string;
let statePath: string;
/** The CLI's state directory (its checkpoints): beside the test folder, so that folder shows only the user's files. */
const cliState = () => `${dir}-cli-state`;

/** Runs `gte-pro ARGS`; never throws on a non-zero exit (the exit code is part of what is tested). */
async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: {
        ...process.env,
        GTE_URL: '',
        GTE_ADMIN_TOKEN: '',
        GTE_STATE_FILE: '',
        GTE_STATE_DIR: cliState(),
        ...env,
      },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const DOCS = Array.from({ length: 12 }, (_, i) => ({
  id: `cli-doc-${i + 1}`,
  text: [`volcanic basalt ridge ${i}`, `sourdough starter recipe ${i}`, `tax form deadline ${i}`][i % 3]!,
  metadata: { n: i + 1 },
}));
const BAD_LINE = 6;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gte-cli-'));
  cluster = await startCluster({ nodes: 2 });
  statePath = join(dir, 'state.json');
  writeStateFile(statePath, cluster.state);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (dir) rmSync(cliState(), { recursive: true, force: true });
});

describe('gte-pro against a real cluster', () => {
  it('ingest: reports the bad line by number, exits 1, and every other line is searchable', async () => {
    const lines = DOCS.map((d) => JSON.stringify(d));
    // Line 6 is a document with an empty text: valid JSON, refused by the schema.
    lines.splice(BAD_LINE - 1, 0, JSON.stringify({ id: 'cli-doc-bad', text: '' }));
    const file = join(dir, 'docs.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);

    // URL and token from the environment here; from the state file below.
    const env = { GTE_URL: cluster!.state.edge_url, GTE_ADMIN_TOKEN: cluster!.state.admin_token };
    const first = await cli(['ingest', 'docs.jsonl', '--batch-size', '5'], env);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toContain(`${file}:${BAD_LINE}: text: text must not be empty`);
    expect(first.stderr).toMatch(/ingest \[#+\] 100% 13\/13 lines/);
    expect(first.stdout).toContain(`ingested ${DOCS.length} document(s) from lines 1..13`);
    expect(first.stdout).toContain(`line ${BAD_LINE}: text: text must not be empty`);
    // The checkpoint is kept in the CLI's state directory, not beside the file.
    expect(readdirSync(dir).sort()).toEqual(['docs.jsonl', 'state.json']);
    const checkpoint = JSON.parse(readFileSync(checkpointPath(file, cliState()), 'utf8')) as {
      committed_line: number;
      failed: { line: number }[];
      documents: number;
    };
    expect(checkpoint).toMatchObject({
      committed_line: 13,
      failed: [{ line: BAD_LINE }],
      documents: DOCS.length,
    });

    // wait=applied (the default): each batch is applied on the master before the CLI moves on.
    for (const d of DOCS) {
      const res = await cluster!.adminFetch(`/api/v1/documents/${d.id}`);
      expect(res.status, d.id).toBe(200);
      expect(((await res.json()) as { text: string }).text).toBe(d.text);
    }
    expect((await cluster!.adminFetch('/api/v1/documents/cli-doc-bad')).status).toBe(404);

    const found = await cli([
      'search',
      'sourdough starter recipe 4',
      '--top-k',
      '3',
      '--json',
      '--state-file',
      statePath,
    ]);
    expect(found.code, found.stderr).toBe(0);
    const answer = JSON.parse(found.stdout) as { results: { id: string }[]; served_by: { node: string } };
    expect(answer.results.map((r) => r.id)).toContain('cli-doc-5');
    const text = await cli(['search', 'tax form deadline', '--state-file', statePath]);
    expect(text.stdout).toMatch(/1 +\d\.\d{4} +cli-doc-\d+ +tax form deadline/);
    expect(text.stdout).toMatch(
      /result\(s\) in [\d.]+ ms, served by node-[12] \((master|standby), epoch \d+\)/,
    );
  }, 120_000);

  it('ingest again: resumes from the checkpoint, sends only appended lines, keeps reporting the old failure', async () => {
    const file = join(dir, 'docs.jsonl');
    const again = await cli(['ingest', file, '--state-file', statePath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('resuming');
    expect(again.stdout).toContain('nothing new to ingest: all 13 lines');
    expect(again.stdout).toContain('1 line(s) failed (1 in an earlier run)');

    appendFileSync(file, `${JSON.stringify({ id: 'cli-doc-appended', text: 'appended later' })}\n`);
    const appended = await cli(['ingest', file, '--state-file', statePath]);
    expect(appended.stdout).toContain('ingested 1 document(s) from lines 14..14');
    expect((await cluster!.adminFetch('/api/v1/documents/cli-doc-appended')).status).toBe(200);

    writeFileSync(file, readFileSync(file, 'utf8').replace('volcanic basalt ridge 0', 'changed'));
    const changed = await cli(['ingest', file, '--state-file', statePath]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(
      /changed in lines 1\.\.14 since its checkpoint was written; run with --restart/,
    );
  }, 120_000);

  it('status: a table with both nodes, their roles, the epoch; --json is the edge answer', async () => {
    const table = await cli(['status', '--state-file', statePath]);
    expect(table.code, table.stderr).toBe(0);
    const status = (await (await fetch(`${cluster!.state.edge_url}/api/v1/status`)).json()) as ClusterStatus;
    expect(table.stdout).toContain(`master ${status.current_master} · epoch ${status.epoch}`);
    for (const n of status.nodes) expect(table.stdout).toMatch(new RegExp(`${n.id} +${n.role} +up`));
    expect(table.stdout).toMatch(/last failover: el-\S+ election \(none\) → node-[12]/);
    const json = await cli(['status', '--json', '--state-file', statePath]);
    expect((JSON.parse(json.stdout) as ClusterStatus).nodes.map((n) => n.id).sort()).toEqual([
      'node-1',
      'node-2',
    ]);

    const list = await cli(['failovers', '--state-file', statePath]);
    expect(list.stdout).toMatch(/el-\S+ +election/);
  });

  it('says what to do when the edge is not there or the token is wrong', async () => {
    const none = await cli(['status', '--url', 'http://127.0.0.1:9']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no edge at http:\/\/127\.0\.0\.1:9 .*start one with `npm run cluster/);
    const badToken = await cli(['failovers', '--url', cluster!.state.edge_url, '--token', 'wrong']);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/HTTP 401 unauthorized.*pass the cluster admin token with --token/);
  });
});
