/**
 * The ops CLI's pure parts: argument parsing, where the edge and token come from, JSONL
 * lines with per-line reasons, batching, the resume checkpoint, the drill's numbers and the
 * report text. No edge needed; test/cluster/cli.test.ts runs the CLI against a real cluster.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { intOption, parseCli, parseFilters, UsageError } from '../../scripts/cli/args.ts';
import {
  advanceCheckpoint,
  checkpointPath,
  emptyCheckpoint,
  hashLines,
  readCheckpoint,
  resumeMismatch,
  stateDir,
  writeCheckpoint,
} from '../../scripts/cli/checkpoint.ts';
import { ingestCommand } from '../../scripts/cli/commands/ingest.ts';
import { summarizeDrill, type Sample } from '../../scripts/cli/commands/drill.ts';
import { resolveTarget } from '../../scripts/cli/config.ts';
import { CliError } from '../../scripts/cli/errors.ts';
import { renderReport, renderStatus, table } from '../../scripts/cli/format.ts';
import { main } from '../../scripts/cli/index.ts';
import type { EdgeClient } from '../../scripts/cli/edge-client.ts';
import { Batcher, parseJsonlLine, type Batch, type ParsedLine } from '../../scripts/cli/jsonl.ts';
import { ProgressBar } from '../../scripts/cli/progress.ts';
import type { ClusterStatus, FailoverReport } from '../../shared/edge-api.ts';

const dir = mkdtempSync(join(tmpdir(), 'gte-cli-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCli', () => {
  it('gives help for no arguments, --help, and help COMMAND', () => {
    expect(parseCli([])).toMatchObject({ kind: 'help' });
    expect(parseCli(['--help'])).toMatchObject({ kind: 'help', text: expect.stringContaining('drill') });
    const one = parseCli(['help', 'ingest']);
    expect(one.kind === 'help' && one.text).toMatch(/^usage: gte-pro ingest FILE\.jsonl/);
    const flag = parseCli(['search', '--help']);
    expect(flag.kind === 'help' && flag.text).toContain('--top-k N');
  });

  it('parses a command with its options and the connection flags', () => {
    expect(
      parseCli([
        'search',
        'reset my password',
        '--top-k',
        '3',
        '--json',
        '--url',
        'http://e',
        '--filter',
        'lang=en',
        '--filter',
        'v=2',
      ]),
    ).toEqual({
      kind: 'run',
      command: 'search',
      positionals: ['reset my password'],
      values: { 'top-k': '3', json: true, url: 'http://e', filter: ['lang=en', 'v=2'] },
    });
    expect(parseCli(['failovers', 'fo-1'])).toMatchObject({ command: 'failovers', positionals: ['fo-1'] });
    expect(parseCli(['switchover', '--to', 'node-2'])).toMatchObject({ values: { to: 'node-2' } });
  });

  it('refuses unknown commands, unknown options and wrong argument counts, with the help attached', () => {
    expect(() => parseCli(['statsu'])).toThrow(/unknown command "statsu"; commands: status, search/);
    expect(() => parseCli(['search', 'q', '--topk', '3'])).toThrow(UsageError);
    expect(() => parseCli(['search', 'q', '--topk', '3'])).toThrow(/search: Unknown option '--topk'/);
    expect(() => parseCli(['search'])).toThrow(/expected 1 argument\(s\) \(search QUERY\), got 0/);
    expect(() => parseCli(['status', 'extra'])).toThrow(/expected 0 argument\(s\).*"extra"/);
    try {
      parseCli(['ingest']);
    } catch (err) {
      expect((err as UsageError).help).toMatch(/^usage: gte-pro ingest/);
    }
  });

  it('reads integer options within bounds and metadata filters', () => {
    expect(intOption({}, 'top-k', 1, 100, 5)).toBe(5);
    expect(intOption({ 'top-k': '7' }, 'top-k', 1, 100, 5)).toBe(7);
    for (const bad of ['0', '101', '2.5', 'ten', ''])
      expect(() => intOption({ 'top-k': bad }, 'top-k', 1, 100, 5)).toThrow(
        /--top-k: expected an integer from 1 to 100/,
      );
    expect(parseFilters(['lang=en', 'year=2024', 'draft=false', 'k=a=b'])).toEqual({
      metadata: { lang: 'en', year: 2024, draft: false, k: 'a=b' },
    });
    expect(parseFilters(undefined)).toBeUndefined();
    expect(() => parseFilters(['=x'])).toThrow(/KEY=VALUE/);
  });
});

describe('resolveTarget', () => {
  const stateFile = join(dir, 'state.json');
  writeFileSync(
    stateFile,
    JSON.stringify({
      edge_url: 'http://127.0.0.1:9001',
      admin_token: 'from-file',
      cluster_secret: 's',
      redis_url: 'redis://x',
      redis_prefix: 'p',
      nodes: [],
    }),
  );

  it('takes flags first, then --state-file, then GTE_URL / GTE_ADMIN_TOKEN, then GTE_STATE_FILE', () => {
    const env = { GTE_URL: 'http://env:1/', GTE_ADMIN_TOKEN: 'from-env' };
    expect(resolveTarget({ flags: { url: 'http://flag:2', token: 't' }, env })).toEqual({
      url: 'http://flag:2',
      token: 't',
      apiKey: null,
      source: '--url',
    });
    expect(resolveTarget({ flags: { 'state-file': stateFile }, env })).toMatchObject({
      url: 'http://127.0.0.1:9001',
      token: 'from-file',
    });
    expect(resolveTarget({ flags: {}, env })).toEqual({
      url: 'http://env:1',
      token: 'from-env',
      apiKey: null,
      source: 'GTE_URL',
    });
    expect(resolveTarget({ flags: {}, env: { GTE_STATE_FILE: stateFile } })).toMatchObject({
      url: 'http://127.0.0.1:9001',
      token: 'from-file',
    });
    expect(resolveTarget({ flags: { url: 'http://flag:2' }, env: {} })).toMatchObject({ token: null });
  });

  it('takes the search key from the state file, else GTE_API_KEY', () => {
    const keyed = join(dir, 'keyed.json');
    writeFileSync(
      keyed,
      JSON.stringify({ edge_url: 'http://127.0.0.1:9002', admin_token: 'adm', api_key: 'key-1', nodes: [] }),
    );
    expect(resolveTarget({ flags: { 'state-file': keyed }, env: { GTE_API_KEY: 'env-key' } })).toMatchObject({
      token: 'adm',
      apiKey: 'key-1',
    });
    expect(resolveTarget({ flags: { url: 'http://x:1' }, env: { GTE_API_KEY: 'env-key' } })).toMatchObject({
      apiKey: 'env-key',
    });
    expect(resolveTarget({ flags: { 'state-file': stateFile }, env: {} })).toMatchObject({ apiKey: null });
  });

  it('says how to point it at an edge', () => {
    expect(() => resolveTarget({ flags: {}, env: {} })).toThrow(
      /no edge URL: pass --url URL.*GTE_URL.*--state-file PATH/,
    );
    expect(() => resolveTarget({ flags: { 'state-file': join(dir, 'nope.json') }, env: {} })).toThrow(
      /no state file at .*nope\.json: start a cluster with `npm run cluster -- --state-file/,
    );
    writeFileSync(join(dir, 'bad.json'), '{"edge_url": 3}');
    expect(() => resolveTarget({ flags: { 'state-file': join(dir, 'bad.json') }, env: {} })).toThrow(
      /has no edge_url \/ admin_token/,
    );
    expect(() => resolveTarget({ flags: { url: 'not a url' }, env: {} })).toThrow(
      /--url: "not a url" is not a URL/,
    );
    expect(() => resolveTarget({ flags: { url: 'ftp://x' }, env: {} })).toThrow(/expected an http\(s\) URL/);
  });
});

describe('parseJsonlLine', () => {
  it('reads a document, skips blank lines, tolerates a BOM and CRLF', () => {
    expect(parseJsonlLine('{"id":"a","text":"hello","metadata":{"k":1}}')).toEqual({
      kind: 'document',
      document: { id: 'a', text: 'hello', metadata: { k: 1 } },
    });
    expect(parseJsonlLine('\uFEFF{"id":"a","text":"t"}\r')).toMatchObject({ kind: 'document' });
    expect(parseJsonlLine('   ')).toEqual({ kind: 'blank' });
    expect(parseJsonlLine('')).toEqual({ kind: 'blank' });
  });

  it('gives a reason that names the problem', () => {
    expect(parseJsonlLine('{"id": "a", text}')).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/^not valid JSON/),
    });
    expect(parseJsonlLine('[1,2]')).toEqual({
      kind: 'error',
      reason: 'expected a JSON object {"id", "text", "metadata"?}, got an array',
    });
    expect(parseJsonlLine('"text"')).toMatchObject({ reason: expect.stringContaining('got string') });
    expect(parseJsonlLine('{"text":"no id"}')).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/^id: /),
    });
    expect(parseJsonlLine('{"id":"a","text":""}')).toEqual({
      kind: 'error',
      reason: 'text: text must not be empty',
    });
    expect(parseJsonlLine('{"id":"a","text":"t","extra":1}')).toEqual({
      kind: 'error',
      reason: 'unknown field(s): extra',
    });
    expect(parseJsonlLine('{"id":"a b","text":"t"}')).toMatchObject({
      reason: expect.stringMatching(/^id: id may hold/),
    });
    expect(parseJsonlLine('{"id":"a","text":"t","metadata":{"k":{"nested":1}}}')).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/^metadata\.k/),
    });
  });
});

describe('Batcher', () => {
  const doc = (id: string): ParsedLine => ({ kind: 'document', document: { id, text: id } });
  const feed = (b: Batcher, lines: ParsedLine[]) => {
    const out: Batch[] = [];
    lines.forEach((l, i) => {
      const batch = b.add(i + 1, l);
      if (batch) out.push(batch);
    });
    const last = b.finish();
    if (last) out.push(last);
    return out.map((x) => ({ lines: x.items.map((i) => i.line), through: x.throughLine }));
  };

  it('closes batches at the size limit and at the end', () => {
    expect(feed(new Batcher(2), [doc('a'), doc('b'), doc('c'), doc('d'), doc('e')])).toEqual([
      { lines: [1, 2], through: 2 },
      { lines: [3, 4], through: 4 },
      { lines: [5], through: 5 },
    ]);
  });

  it('accounts for blank and bad lines in throughLine, also after the last document', () => {
    const bad: ParsedLine = { kind: 'error', reason: 'x' };
    expect(feed(new Batcher(2), [doc('a'), bad, doc('b'), { kind: 'blank' }, bad])).toEqual([
      { lines: [1, 3], through: 3 },
      { lines: [], through: 5 },
    ]);
    expect(feed(new Batcher(2), [doc('a'), doc('b')])).toEqual([{ lines: [1, 2], through: 2 }]);
    expect(feed(new Batcher(), [])).toEqual([]);
  });

  it('closes the batch before a repeated id, so the later line wins in a later request', () => {
    expect(feed(new Batcher(256), [doc('a'), doc('b'), doc('a'), doc('c')])).toEqual([
      { lines: [1, 2], through: 2 },
      { lines: [3, 4], through: 4 },
    ]);
    expect(feed(new Batcher(1), [doc('a'), doc('a')])).toEqual([
      { lines: [1], through: 1 },
      { lines: [2], through: 2 },
    ]);
  });

  it('refuses batch sizes the edge would refuse', () => {
    expect(() => new Batcher(0)).toThrow(RangeError);
    expect(() => new Batcher(257)).toThrow(/1\.\.256/);
  });
});

describe('checkpoint', () => {
  it('advances, merges failures by line, and never moves back', () => {
    const c1 = advanceCheckpoint(
      emptyCheckpoint(),
      { throughLine: 10, prefixSha256: 'h1', failed: [{ line: 7, reason: 'bad' }], documents: 9 },
      new Date(0),
    );
    expect(c1).toEqual({
      version: 1,
      committed_line: 10,
      prefix_sha256: 'h1',
      failed: [{ line: 7, reason: 'bad' }],
      documents: 9,
      updated_at: '1970-01-01T00:00:00.000Z',
    });
    const c2 = advanceCheckpoint(c1, {
      throughLine: 20,
      prefixSha256: 'h2',
      failed: [
        { line: 12, reason: 'x' },
        { line: 3, reason: 'y' },
      ],
      documents: 8,
    });
    expect(c2.failed.map((f) => f.line)).toEqual([3, 7, 12]);
    expect(c2.documents).toBe(17);
    expect(() =>
      advanceCheckpoint(c2, { throughLine: 19, prefixSha256: 'h', failed: [], documents: 0 }),
    ).toThrow(/cannot move back/);
  });

  it('hashes lines independent of CRLF, and notices a changed or shortened file', () => {
    expect(hashLines(['a', 'b'])).toBe(hashLines(['a\r', 'b\r']));
    expect(hashLines(['a', 'b'])).not.toBe(hashLines(['ab']));
    const cp = { ...emptyCheckpoint(), committed_line: 2, prefix_sha256: hashLines(['a', 'b']) };
    expect(resumeMismatch(cp, 2, hashLines(['a', 'b']), 'f.jsonl')).toBeNull();
    expect(resumeMismatch(cp, 2, hashLines(['a', 'B']), 'f.jsonl')).toMatch(
      /f\.jsonl changed in lines 1\.\.2 .* run with --restart/,
    );
    expect(resumeMismatch(cp, 1, hashLines(['a']), 'f.jsonl')).toMatch(
      /has 1 lines but its checkpoint says 2/,
    );
  });

  it('keeps checkpoints in the state directory: GTE_STATE_DIR, else XDG_STATE_HOME, else ~/.local/state', () => {
    expect(stateDir({ GTE_STATE_DIR: '/tmp/own', XDG_STATE_HOME: '/x' })).toBe('/tmp/own');
    expect(stateDir({ XDG_STATE_HOME: '/x' })).toBe(join('/x', 'gte-pro'));
    expect(stateDir({})).toBe(join(homedir(), '.local', 'state', 'gte-pro'));
    // Keyed by the absolute path: the same name in two folders gets two checkpoints.
    const a = checkpointPath(join(dir, 'a', 'docs.jsonl'), '/state');
    expect(a).toMatch(/^\/state\/ingest\/docs\.jsonl\.[0-9a-f]{16}\.gte-progress$/);
    expect(checkpointPath(join(dir, 'b', 'docs.jsonl'), '/state')).not.toBe(a);
    expect(checkpointPath(join(dir, 'a', '..', 'a', 'docs.jsonl'), '/state')).toBe(a);
  });

  it('round-trips through the state directory and explains a corrupt one', () => {
    const path = checkpointPath(join(dir, 'docs.jsonl'), join(dir, 'state'));
    expect(path.startsWith(join(dir, 'state', 'ingest'))).toBe(true);
    expect(path).toMatch(/docs\.jsonl\.[0-9a-f]{16}\.gte-progress$/);
    expect(readCheckpoint(path)).toBeNull();
    const cp = advanceCheckpoint(emptyCheckpoint(), {
      throughLine: 3,
      prefixSha256: hashLines(['1', '2', '3']),
      failed: [],
      documents: 3,
    });
    writeCheckpoint(path, cp);
    expect(readCheckpoint(path)).toEqual(cp);
    writeFileSync(path, '{"committed_line": "x"}');
    expect(() => readCheckpoint(path)).toThrow(CliError);
    expect(() => readCheckpoint(path)).toThrow(/unreadable; delete it, or run with --restart/);
  });
});

describe('drill numbers', () => {
  it('finds the first search served by the new master at its epoch, and groups failures', () => {
    const s = (
      at: number,
      ms: number,
      node: string | null,
      epoch: number | null,
      error?: string,
    ): Sample => ({ at, ms, ok: !error, node, epoch, ...(error ? { error } : {}) });
    const samples = [
      s(0, 10, 'n1', 1),
      s(100, 10, 'n2', 1),
      s(200, 30, 'n1', 2),
      s(250, 20, 'n2', 2),
      s(260, 5, null, null, 'HTTP 503'),
      s(270, 5, null, null, 'HTTP 503'),
      s(300, 10, 'n2', 2),
    ];
    const r = summarizeDrill(samples, { startedAt: 150, finishedAt: 400, to: 'n2', epoch: 2 });
    expect(r.new_master_serving_ms).toBe(250 + 20 - 150);
    expect(r).toMatchObject({
      searches: 7,
      failed: 2,
      failures: [{ error: 'HTTP 503', count: 2 }],
      served_by: { n1: 2, n2: 3 },
    });
    expect(r.latency_ms.max).toBe(30);
    expect(
      summarizeDrill([s(0, 1, 'n1', 1)], { startedAt: 0, finishedAt: 1, to: 'n2', epoch: 2 })
        .new_master_serving_ms,
    ).toBeNull();
  });
});

describe('text output', () => {
  it('aligns tables', () => {
    expect(
      table([
        ['A', 'BB'],
        ['ccc', 'd'],
      ]),
    ).toBe('A    BB\nccc  d');
  });

  it('renders a report as a timeline relative to its start', () => {
    const report: FailoverReport = {
      id: 'fo-1',
      kind: 'failover',
      outcome: 'succeeded',
      from: 'node-1',
      to: 'node-2',
      epoch: 3,
      started_at: 1_000,
      finished_at: 3_500,
      duration_ms: 2_500,
      reason: 'master node-1 failed 3 consecutive probes',
      tried: ['node-2'],
      trigger: [{ at: 900, outcome: 'connect_error', source: 'probe' }],
      steps: [
        { step: 'fence', node: null, epoch: 3, at: 1_001, ok: true, detail: 'epoch 3 stored' },
        { step: 'degrade', node: 'node-1', epoch: 3, at: 1_010, ok: false, detail: 'connect error' },
        { step: 'activate', node: 'node-2', epoch: 3, at: 2_400, ok: true },
      ],
      old_master_health: null,
      diagnostics: null,
    };
    const text = renderReport(report);
    expect(text).toContain('failover fo-1: node-1 → node-2, epoch 3, SUCCEEDED in 2.50 s');
    expect(text).toContain('reason: master node-1 failed 3 consecutive probes');
    expect(text).toMatch(/\+1 ms {2}ok {4}fence {4}\(epoch 3\): epoch 3 stored/);
    expect(text).toMatch(/\+10 ms {2}FAIL {2}degrade {2}node-1 \(epoch 3\): connect error/);
    expect(text).toMatch(/\+1\.40 s {2}ok {4}activate node-2/);
    expect(text).toMatch(/ -100 ms {2}probe connect_error/); // the signal came before the start
  });

  it('renders the status with every node, role and lag', () => {
    const node = {
      url: 'http://n',
      priority: 100,
      applied_seq: '5-0',
      lag_entries: 0,
      lag_ms: 0,
      last_probe_ms: 3,
      last_probe_at: 0,
      consecutive_failures: 0,
      gpu: null,
      parts: null,
      write_path: 'ok',
      failed_jobs: 0,
      last_failed_job: null,
    };
    const status: ClusterStatus = {
      current_master: 'node-1',
      epoch: 4,
      standby_status: 'synced',
      failover_in_progress: false,
      last_failover: null,
      coordinator: {
        alarm_at: null,
        alarm_armed_at: null,
        alarm_armed_by: null,
        probe_interval_ms: 2000,
        note: null,
      },
      nodes: [
        { ...node, id: 'node-1', role: 'master', state: 'up' },
        {
          ...node,
          id: 'node-2',
          role: 'standby',
          state: 'down',
          consecutive_failures: 4,
          gpu: { util: 97.6, mem_used_mb: 1000, mem_total_mb: 8000, temp_c: 70 },
        },
      ],
    };
    const text = renderStatus(status, 'http://edge');
    expect(text.split('\n')[0]).toBe('edge http://edge · master node-1 · epoch 4 · standbys synced');
    expect(text).toMatch(/node-1 +master +up +5-0 +0 entries \/ 0 ms/);
    expect(text).toMatch(/node-2 +standby +down/);
    expect(text).toContain('98% 1000/8000 MB 70°C');
    expect(text).toContain('last failover: none');
  });
});

describe('ProgressBar', () => {
  it('prints plain lines at most once a second on a pipe, and always the last', () => {
    const written: string[] = [];
    let now = 0;
    const bar = new ProgressBar(
      { isTTY: false, write: (t: string) => written.push(t) },
      'ingest',
      100,
      () => now,
    );
    bar.update(10, '');
    now = 500;
    bar.update(20, '');
    now = 1200;
    bar.update(30, '');
    now = 1300;
    bar.update(100, 'done');
    expect(written).toHaveLength(3);
    expect(written[2]).toMatch(/^ingest \[#{30}\] 100% 100\/100 lines {2}done\n$/);
  });

  it('redraws one line on a terminal', () => {
    const written: string[] = [];
    const bar = new ProgressBar(
      { isTTY: true, columns: 200, write: (t: string) => written.push(t) },
      'ingest',
      4,
    );
    bar.update(1, '');
    bar.update(2, '');
    bar.done();
    expect(written.slice(0, 2).every((w) => w.startsWith('\r\x1b[K'))).toBe(true);
    expect(written.at(-1)).toBe('\n');
  });
});

describe('main', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        env: {},
        cwd: dir,
      },
    };
  };

  it('exits 2 on a usage error and 1 when it cannot find an edge, saying what to do', async () => {
    const a = io();
    expect(await main(['search'], a.io)).toBe(2);
    expect(a.err.join('')).toMatch(/^gte-pro: search: expected 1 argument/);
    const b = io();
    expect(await main(['status'], b.io)).toBe(1);
    expect(b.err.join('')).toMatch(/no edge URL/);
    const c = io();
    expect(await main(['status', '--url', 'http://127.0.0.1:1'], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/no edge at http:\/\/127\.0\.0\.1:1 .*start one with `npm run cluster/);
    const d = io();
    expect(await main(['ingest', join(dir, 'missing.jsonl'), '--url', 'http://127.0.0.1:1'], d.io)).toBe(1);
    expect(d.err.join('')).toMatch(/no file .*missing\.jsonl/);
  });

  it('prints help to stdout and exits 0', async () => {
    const a = io();
    expect(await main(['drill', '--help'], a.io)).toBe(0);
    expect(a.out.join('')).toMatch(/^usage: gte-pro drill/);
    expect(readFileSync(new URL('../../scripts/cli/bin.mjs', import.meta.url), 'utf8')).toContain(
      "from 'tsx/esm/api'",
    );
  });
});

describe('ingest leaves the folder of its input alone', () => {
  /** An edge that takes every batch: only what ingest needs of EdgeClient. */
  const fakeEdge = (sent: unknown[][]) =>
    ({
      target: { url: 'http://edge.invalid', token: 'admin', apiKey: null, source: 'test' },
      status: async () => ({}),
      upsert: async (documents: unknown[]) => void sent.push(documents),
    }) as unknown as EdgeClient;

  const runIngest = async (file: string, state: string, sent: unknown[][]) => {
    const out: string[] = [];
    const io = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: () => undefined },
      env: { GTE_STATE_DIR: state },
      cwd: dirname(file),
    };
    const code = await ingestCommand({
      client: fakeEdge(sent),
      positionals: [file],
      values: { 'batch-size': '2' },
      io,
      out: (t) => io.stdout.write(t),
      err: () => undefined,
    });
    return { code, out: out.join('') };
  };

  it('a complete run leaves nothing next to the file and no checkpoint behind', async () => {
    const folder = join(dir, 'user-folder');
    const state = join(dir, 'ingest-state');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'documents.jsonl');
    const docs = [1, 2, 3].map((n) => JSON.stringify({ id: `d${n}`, text: `text ${n}` }));
    writeFileSync(file, `${docs.join('\n')}\n`);
    const sent: unknown[][] = [];
    const { code, out } = await runIngest(file, state, sent);
    expect(code).toBe(0);
    expect(out).toContain('ingested 3 document(s) from lines 1..3');
    expect(sent.flat()).toHaveLength(3);
    expect(readdirSync(folder)).toEqual(['documents.jsonl']);
    expect(existsSync(checkpointPath(file, state))).toBe(false);
  });

  it('a run with a failed line keeps its checkpoint in the state directory, not beside the file', async () => {
    const folder = join(dir, 'user-folder-bad');
    const state = join(dir, 'ingest-state-bad');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'documents.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ id: 'ok', text: 'fine' })}\n${JSON.stringify({ id: 'bad', text: '' })}\n`,
    );
    const { code } = await runIngest(file, state, []);
    expect(code).toBe(1);
    expect(readdirSync(folder)).toEqual(['documents.jsonl']);
    expect(readCheckpoint(checkpointPath(file, state))).toMatchObject({
      committed_line: 2,
      failed: [{ line: 2 }],
    });
  });
});
