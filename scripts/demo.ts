/**
 * `npm run demo`: GTE-Pro's main job on a fresh machine, end to end.
 *
 *   1. a 2-node local cluster (Redis, two real search nodes, the edge in workerd);
 *   2. the sample knowledge base ingested through the edge, with a progress bar;
 *   3. the labelled queries, with recall@5;
 *   4. a failover drill: kill -9 of the master while a search load runs;
 *   5. the timeline and the failover report;
 *   6. the same queries again: results must be identical;
 * then everything is stopped and the exit code says whether it all held. `--json` prints one
 * machine-readable summary instead of the readable report.
 */
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from './cluster/launch.ts';
import { sleep, waitFor } from './cluster/wait.ts';
import { loadDocuments, loadQueries, recallAtK, type LabelledQuery } from './corpus/sample.ts';
import { startSearchLoad } from './chaos/load.ts';
import type { FailoverReport } from '../shared/edge-api.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, rate: { type: 'string', default: '50' } },
});
const asJson = values.json;
const out = (line = '') => {
  if (!asJson) process.stdout.write(`${line}\n`);
};
const step = (n: number, title: string) => out(`\n\x1b[1m[${n}/6] ${title}\x1b[0m`);

function progressBar(done: number, total: number, width = 30): string {
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

async function edgeJson<T>(
  cluster: Cluster,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await cluster.adminFetch(path, init);
  return { status: res.status, body: (await res.json()) as T };
}

async function runQueries(cluster: Cluster, queries: LabelledQuery[]) {
  const results: { query: LabelledQuery; ids: string[]; scores: number[] }[] = [];
  for (const query of queries) {
    const res = await fetch(`${cluster.state.edge_url}/api/v1/search`, {
      method: 'POST',
      // The cluster's search key (its state file's api_key): search is not open without one.
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.state.api_key}` },
      body: JSON.stringify({ query: query.query, top_k: 5 }),
    });
    if (res.status !== 200)
      throw new Error(`search ${JSON.stringify(query.query)} answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { results: { id: string; score: number }[] };
    results.push({ query, ids: body.results.map((r) => r.id), scores: body.results.map((r) => r.score) });
  }
  const recall = (rs: typeof results) =>
    recallAtK(
      rs.map((r) => r.query),
      rs.map((r) => r.ids),
    );
  return {
    results,
    recall: {
      all: recall(results),
      en: recall(results.filter((r) => r.query.lang === 'en')),
      zh: recall(results.filter((r) => r.query.lang === 'zh')),
    },
  };
}

async function main(): Promise<number> {
  const documents = loadDocuments();
  const queries = loadQueries();
  step(1, 'Starting a 2-node cluster on loopback');
  const t0 = Date.now();
  const cluster = await startCluster({ nodes: 2, onProgress: (m) => out(`      ${m}`) });
  let exitCode = 1;
  try {
    const status0 = (await edgeJson<{ current_master: string; epoch: number }>(cluster, '/api/v1/status'))
      .body;
    out(
      `      edge ${cluster.state.edge_url}; master ${status0.current_master} (epoch ${status0.epoch}); ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    step(2, `Ingesting the sample knowledge base (${documents.length} documents, English and Chinese)`);
    const batch = 32;
    const ingestStarted = Date.now();
    for (let i = 0; i < documents.length; i += batch) {
      const last = i + batch >= documents.length;
      const r = await edgeJson<{ error?: { message: string } }>(cluster, '/api/v1/documents', {
        method: 'POST',
        json: { documents: documents.slice(i, i + batch), wait: last ? 'replicated' : 'applied' },
      });
      if (r.status !== 200)
        throw new Error(`ingest batch at ${i} answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (!asJson)
        process.stdout.write(
          `\r      ${progressBar(Math.min(i + batch, documents.length), documents.length)}`,
        );
    }
    const ingestMs = Date.now() - ingestStarted;
    out(
      `\n      ${documents.length} documents in ${(ingestMs / 1000).toFixed(1)} s, replicated to the standby`,
    );

    step(3, `Labelled queries (${queries.length}), recall@5`);
    const before = await runQueries(cluster, queries);
    out(
      `      recall@5: all ${before.recall.all.toFixed(3)}  English ${before.recall.en.toFixed(3)}  Chinese ${before.recall.zh.toFixed(3)}`,
    );
    for (const r of before.results.slice(0, 3))
      out(`      "${r.query.query}" -> ${r.ids.slice(0, 3).join(', ')}`);

    step(4, `Failover drill: kill -9 of the master under ${values.rate} searches/s`);
    const oldMaster = status0.current_master;
    const victim = cluster.state.nodes.find((n) => n.id === oldMaster)!;
    let next = 0;
    const load = startSearchLoad({
      edgeUrl: cluster.state.edge_url,
      apiKey: cluster.state.api_key,
      nextQuery: () => ({ query: queries[next++ % queries.length]!.query }),
      ratePerSec: Number(values.rate),
      maxDurationMs: 60_000,
    });
    await sleep(2000);
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    out(`      killed ${oldMaster} (pid ${victim.pid})`);
    let newMaster = '';
    await waitFor(
      'a new master to serve searches',
      async () => {
        const s = (
          await edgeJson<{ current_master: string | null; epoch: number }>(cluster, '/api/v1/status')
        ).body;
        if (s.current_master && s.current_master !== oldMaster) newMaster = s.current_master;
        return (
          newMaster !== '' &&
          load.records.some((x) => x.ok && x.servedBy === newMaster && x.startedAt > killedAt)
        );
      },
      30_000,
    );
    await sleep(2000);
    const samples = await load.stop();
    const failed = samples.filter((s) => !s.ok);
    const firstNew = samples.find((s) => s.ok && s.servedBy === newMaster && s.startedAt > killedAt);

    step(5, 'Timeline and failover report');
    const failovers = (
      await edgeJson<{ failovers: { id: string; kind: string; from: string | null }[] }>(
        cluster,
        '/api/v1/failovers',
      )
    ).body;
    const summary = failovers.failovers.find((f) => f.kind === 'failover' && f.from === oldMaster);
    const report = summary
      ? (await edgeJson<FailoverReport>(cluster, `/api/v1/failovers/${summary.id}`)).body
      : null;
    const rel = (t: number | undefined | null) => (t ? `+${((t - killedAt) / 1000).toFixed(2)} s` : 'n/a');
    const promoted = report?.steps.find((s) => s.step === 'route')?.at ?? report?.finished_at;
    const timeline = {
      kill_ms: 0,
      detection_ms: report ? report.started_at - killedAt : null,
      promotion_ms: promoted ? promoted - killedAt : null,
      first_answer_from_new_master_ms: firstNew ? firstNew.finishedAt - killedAt : null,
      searches: samples.length,
      failed_searches: failed.length,
    };
    out(`      ${rel(killedAt)}  kill -9 ${oldMaster}`);
    out(
      `      ${rel(report?.started_at)}  failure detected (${report?.trigger.length ?? 0} signals: ${[...new Set(report?.trigger.map((t) => t.outcome))].join(', ')})`,
    );
    for (const s of report?.steps ?? [])
      out(
        `      ${rel(s.at)}  ${s.step}${s.node ? ` ${s.node}` : ''} epoch ${s.epoch} ${s.ok ? 'ok' : 'FAILED'}${s.detail ? ` (${s.detail})` : ''}`,
      );
    out(`      ${rel(firstNew?.finishedAt)}  first answer from the new master ${newMaster}`);
    out(`      searches during the drill: ${samples.length}, failed: ${failed.length}`);
    if (report)
      out(
        `      report ${report.id}: outcome ${report.outcome}, ${report.from} -> ${report.to}, epoch ${report.epoch}, ${report.duration_ms} ms`,
      );

    step(6, 'The same queries again, served by the new master');
    const after = await runQueries(cluster, queries);
    const identical = before.results.every(
      (b, i) =>
        JSON.stringify(b.ids) === JSON.stringify(after.results[i]!.ids) &&
        b.scores.every((s, j) => Math.abs(s - after.results[i]!.scores[j]!) < 1e-5),
    );
    out(
      `      recall@5: all ${after.recall.all.toFixed(3)}  English ${after.recall.en.toFixed(3)}  Chinese ${after.recall.zh.toFixed(3)}`,
    );
    out(`      results identical to before the failover: ${identical ? 'yes' : 'NO'}`);

    const ok = failed.length === 0 && identical && report?.outcome === 'succeeded';
    if (asJson) {
      process.stdout.write(
        `${JSON.stringify({ ok, documents: documents.length, ingest_ms: ingestMs, recall_before: before.recall, recall_after: after.recall, identical, old_master: oldMaster, new_master: newMaster, timeline, report })}\n`,
      );
    }
    out(
      ok
        ? '\n\x1b[32mDemo passed: 0 failed searches, identical results after the failover.\x1b[0m'
        : '\n\x1b[31mDemo FAILED: see above.\x1b[0m',
    );
    for (const f of failed.slice(0, 5))
      out(`      failed search at ${rel(f.startedAt)}: ${f.status} ${f.error ?? ''}`);
    exitCode = ok ? 0 : 1;
  } finally {
    out('\nStopping the cluster');
    await cluster.stop();
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    process.exit(1);
  },
);
