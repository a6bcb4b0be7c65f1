/**
 * Deploy/: the Prometheus alert rules and the Grafana dashboard name only metrics the
 * code really exports. Every PromQL expression is read from the files, every metric name pulled
 * out of it, and each is looked up in what a real 1-node cluster serves on the edge's /metrics
 * and the node's /metrics (a histogram's name also covers its _bucket/_sum/_count series).
 * Plus the few settings the systemd unit and the Dockerfile must have.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';
import { ROOT } from '../../scripts/cluster/node-process.ts';

const ALERTS = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'gte-pro.json');

/** PromQL words that are not metric names: functions, aggregations, keywords. */
const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'changes',
  'resets',
  'absent',
  'absent_over_time',
  'present_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
  'quantile_over_time',
  'histogram_quantile',
  'abs',
  'ceil',
  'floor',
  'round',
  'clamp',
  'clamp_min',
  'clamp_max',
  'vector',
  'scalar',
  'time',
  'timestamp',
  'label_replace',
  'label_join',
  'sort',
  'sort_desc',
  'predict_linear',
  'holt_winters',
  'exp',
  'ln',
  'log2',
  'log10',
  'sqrt',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** Metric names in one PromQL expression (strings, label matchers, ranges and label lists removed first). */
function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    if (!PROMQL_WORDS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

/** `expr:` values of the rule file; each must be on its line (a block scalar would be skipped, so it fails here). */
function alertExpressions(text: string): { alert: string; expr: string }[] {
  const out: { alert: string; expr: string }[] = [];
  let alert = '';
  for (const line of text.split('\n')) {
    const a = /^\s*-\s*alert:\s*(\S+)/.exec(line);
    if (a) alert = a[1]!;
    const e = /^\s*expr:\s*(.*)$/.exec(line);
    if (e) {
      expect(e[1]!.trim(), `alert ${alert}: keep expr on one line`).not.toMatch(/^[|>]/);
      out.push({ alert, expr: e[1]!.trim() });
    }
  }
  return out;
}

/** Every PromQL string in the dashboard: panel targets, annotations, template queries. */
function dashboardExpressions(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) dashboardExpressions(v, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'expr' || k === 'query') && typeof v === 'string') {
        const lv = /^label_values\(\s*([^,)]+)/.exec(v);
        out.push(lv ? lv[1]!.trim() : v);
      } else dashboardExpressions(v, out);
    }
  }
  return out;
}

/** Names a Prometheus text exposition exports: from its TYPE lines and its samples. */
/** The sum of every sample of `name` (all label sets) in a Prometheus text exposition. */
function sampleSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      names.add(type[1]!);
      if (type[2] === 'histogram' || type[2] === 'summary')
        for (const s of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${s}`);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

describe('metricNames (the PromQL reader this test relies on)', () => {
  it('finds metric names and skips functions, labels, strings, ranges and label lists', () => {
    expect(metricNames('increase(gte_pro_failover_count_total[1h]) >= 2')).toEqual([
      'gte_pro_failover_count_total',
    ]);
    expect(metricNames('max by (node) (gte_pro_node_overloaded{role="master", x=~"a|b"}) == 1')).toEqual([
      'gte_pro_node_overloaded',
    ]);
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket[5m] offset 1h))) / on(instance) group_left b',
      ),
    ).toEqual(['a_bucket', 'b']);
    expect(metricNames('up == 0 and 1e3')).toEqual(['up']);
  });
});

describe('deploy/ names only exported metrics', () => {
  let cluster: Cluster | undefined;
  let exported: Set<string>;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
    const edge = await (await fetch(`${cluster.state.edge_url}/metrics`)).text();
    const node = await (await fetch(`${cluster.state.nodes[0]!.url}/metrics`)).text();
    exported = new Set([...exportedNames(edge), ...exportedNames(node)]);
  });
  afterAll(() => cluster?.stop());

  it('serves the metrics the contract names (ARCHITECTURE.md section 3)', () => {
    for (const name of [
      'gte_pro_failover_count_total',
      'gte_pro_node_up',
      'gte_pro_epoch',
      'gte_pro_replication_lag_seconds',
      'gte_pro_probe_total',
      'gte_pro_node_overloaded',
      'gte_node_is_master',
    ]) {
      expect(exported, name).toContain(name);
    }
  });

  it('counters move with traffic: requests, stage times, applied entries, embed batches, probes', async () => {
    const { edge_url: edgeUrl, admin_token: token } = cluster!.state;
    const nodeUrl = cluster!.state.nodes[0]!.url;
    const scrape = async () => ({
      node: await (await fetch(`${nodeUrl}/metrics`)).text(),
      edge: await (await fetch(`${edgeUrl}/metrics`)).text(),
    });
    const before = await scrape();
    const documents = Array.from({ length: 5 }, (_, i) => ({
      id: `metrics-${i}`,
      text: `metrics document ${i}`,
    }));
    const write = await fetch(`${edgeUrl}/api/v1/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ documents, wait: 'applied' }),
    });
    expect(write.status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${edgeUrl}/api/v1/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: `metrics document ${i}` }),
      });
      expect(res.status).toBe(200);
    }
    // The probe loop runs on its own: wait for at least one more probe.
    await new Promise((r) => setTimeout(r, 2500));
    const after = await scrape();
    const moved = (text: 'node' | 'edge', name: string) =>
      sampleSum(after[text], name) - sampleSum(before[text], name);
    expect(moved('node', 'gte_node_applied_entries_total')).toBe(5);
    expect(moved('node', 'gte_node_requests_total')).toBeGreaterThanOrEqual(4);
    expect(moved('node', 'gte_node_search_stage_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(moved('node', 'gte_node_embed_batch_size_count')).toBeGreaterThanOrEqual(2);
    expect(sampleSum(after.node, 'gte_node_index_size')).toBeGreaterThanOrEqual(5);
    expect(moved('edge', 'gte_pro_probe_total')).toBeGreaterThan(0);
  });

  it('alerts.yml: the four alerts exist, and every metric they use is exported', () => {
    const rules = alertExpressions(readFileSync(ALERTS, 'utf8'));
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'GteProMasterOverloaded',
      'GteProNodeDown',
      'GteProRepeatedFailovers',
      'GteProReplicationLagHigh',
    ]);
    for (const { alert, expr } of rules) {
      const names = metricNames(expr);
      expect(names.length, `${alert}: ${expr}`).toBeGreaterThan(0);
      for (const name of names)
        expect(exported.has(name), `${alert} uses ${name}, which neither the edge nor the node exports`).toBe(
          true,
        );
    }
  });

  it('gte-pro.json: valid JSON, and every metric its queries use is exported', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: unknown[] };
    const exprs = dashboardExpressions(dashboard);
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(exprs.flatMap(metricNames));
    const missing = [...used].filter((n) => !exported.has(n));
    expect(missing, `dashboard metrics not exported by the code`).toEqual([]);
    // Both sides are on the dashboard.
    expect([...used].some((n) => n.startsWith('gte_pro_'))).toBe(true);
    expect([...used].some((n) => n.startsWith('gte_node_'))).toBe(true);
  });
});

describe('deploy/ service files', () => {
  it('the systemd unit reads an EnvironmentFile, always restarts, and sets limits', () => {
    const unit = readFileSync(join(ROOT, 'deploy', 'systemd', 'gte-pro-node.service'), 'utf8');
    for (const line of [
      'EnvironmentFile=/etc/gte-pro/node.env',
      'Restart=always',
      'LimitNOFILE=65536',
      'KillSignal=SIGTERM',
      'ExecStart=/usr/bin/node --import tsx worker-node/main.ts',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  it('the Dockerfile builds on node:20-bookworm with Debian FAISS and the bootstrap', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm AS build$/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*libfaiss-dev/);
    expect(dockerfile).toMatch(/RUN node scripts\/setup\/bootstrap\.mjs/);
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "worker-node\/main\.ts"\]$/m);
  });
});
