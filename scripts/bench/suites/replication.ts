/**
 * Suite "replication": a master and a standby on one Redis log. Bulk ingest throughput with the
 * standby following; how long after the master's last acknowledgement the standby has it all;
 * a fresh standby's replay rate; and the lag of single writes, append → visible on the standby,
 * measured two ways (polling the standby's /health applied_seq, and its document endpoint).
 */
import { join } from 'node:path';
import { seqTimeMs, compareSeq } from '../../../shared/stream-id.ts';
import type { NodeProcess } from '../../cluster/node-process.ts';
import { UPSERT_BATCH, uniquePrefix } from '../context.ts';
import { benchDoc, benchDocs } from '../../corpus/synthetic.ts';
import { formatCount, formatMs, goalVerdict, markdownTable, perSecond, summarize } from '../stats.ts';
import type { Suite } from '../suite.ts';

const INFLIGHT = 4;
const POLL_DEADLINE_MS = 5000;

export const replicationSuite: Suite = {
  name: 'replication',
  title: 'Replication: lag and throughput',
  async run(ctx) {
    const prefix = uniquePrefix();
    const [master, standby] = await Promise.all(
      ['repl-master', 'repl-standby'].map((id) => ctx.startNode({ id, dataDir: join(ctx.dir, id), prefix })),
    );
    if (!master || !standby) throw new Error('unreachable: two nodes were started');
    const act = await master.client.activate(1);
    if (act.status !== 200) throw new Error(`activate: ${act.status} ${JSON.stringify(act.body)}`);
    await standby.client.standby(1, master.id);

    // Bulk ingest with the standby following.
    const total = ctx.sizes.replicationDocs;
    ctx.progress(`  ingesting ${formatCount(total)} documents with a standby following`);
    const started = performance.now();
    let sent = 0;
    let lastSeq = '0-0';
    await Promise.all(
      Array.from({ length: INFLIGHT }, async () => {
        while (sent < total) {
          const start = sent;
          const count = Math.min(UPSERT_BATCH, total - start);
          sent += count;
          const res = await master.client.upsert(benchDocs(1_000_000 + start, count), 1, 'applied');
          if (res.status !== 200) throw new Error(`upsert: ${res.status} ${JSON.stringify(res.body)}`);
          const seq = (res.body as { seq?: string }).seq ?? '0-0';
          if (compareSeq(seq, lastSeq) > 0) lastSeq = seq;
        }
      }),
    );
    const masterMs = performance.now() - started;
    await waitApplied(standby, lastSeq, 120_000);
    const standbyMs = performance.now() - started;

    // A fresh standby replaying the whole log.
    ctx.progress('  a fresh standby replays the log');
    const replayStart = performance.now();
    const fresh = await ctx.startNode({ id: 'repl-fresh', dataDir: join(ctx.dir, 'repl-fresh'), prefix });
    const readyMs = performance.now() - replayStart;
    await fresh.client.standby(1, master.id);
    await waitApplied(fresh, lastSeq, 300_000);
    const replayMs = performance.now() - replayStart;
    await fresh.stop();

    // Single-write lag, idle cluster: even samples via /health, odd via the document endpoint.
    ctx.progress(`  ${ctx.sizes.lagSamples} single-document lag samples`);
    const viaHealth: number[] = [];
    const viaDoc: number[] = [];
    const afterAck: number[] = [];
    const writeMs: number[] = [];
    let missed = 0;
    for (let i = 0; i < ctx.sizes.lagSamples; i++) {
      const doc = benchDoc(2_000_000 + i);
      const t0 = performance.now();
      const res = await master.client.upsert([doc], 1, 'applied');
      const ackAt = performance.now();
      if (res.status !== 200) throw new Error(`upsert: ${res.status} ${JSON.stringify(res.body)}`);
      writeMs.push(ackAt - t0);
      const seq = (res.body as { seq: string }).seq;
      const seen = i % 2 === 0 ? await pollHealthFor(standby, seq) : await pollDocFor(standby, doc.id);
      if (seen === null) {
        missed++;
        continue;
      }
      // Wall clock on both sides: the stream id's milliseconds are Redis's clock, on this machine.
      const lag = seen.wallMs - seqTimeMs(seq);
      (i % 2 === 0 ? viaHealth : viaDoc).push(lag);
      afterAck.push(Math.max(0, seen.perfMs - ackAt));
      await new Promise((r) => setTimeout(r, 20));
    }
    await standby.stop();
    await master.stop();

    const all = summarize([...viaHealth, ...viaDoc]);
    const row = (name: string, values: number[]) => {
      const s = summarize(values);
      return [name, s.n, formatMs(s.p50), formatMs(s.p99), formatMs(s.max)];
    };
    return [
      'Two nodes (master + standby, default model, Flat) on one private redis-server (AOF, appendfsync always), loopback.',
      '',
      '### Throughput',
      '',
      markdownTable(
        ['measure', 'documents', 'seconds', 'docs/s'],
        [
          [
            `master ingest, ${UPSERT_BATCH} per request, ${INFLIGHT} in flight, wait "applied", standby following`,
            formatCount(total),
            (masterMs / 1000).toFixed(1),
            formatCount(perSecond(total, masterMs)),
          ],
          [
            'standby has applied everything (from the first request)',
            formatCount(total),
            (standbyMs / 1000).toFixed(1),
            formatCount(perSecond(total, standbyMs)),
          ],
          [
            `fresh standby replays the log (from process start; ready after ${(readyMs / 1000).toFixed(1)} s)`,
            formatCount(total),
            (replayMs / 1000).toFixed(1),
            formatCount(perSecond(total, replayMs)),
          ],
        ],
      ),
      '',
      `The standby finished ${formatMs(standbyMs - masterMs)} ms after the master acknowledged the last request.`,
      '',
      '### Lag of single writes (idle cluster, one write at a time)',
      '',
      "Lag = when the standby first shows the entry − the entry's append time (the Redis stream id's milliseconds). " +
        'Polled back to back: `/health` until `index.applied_seq` reaches the entry, or the signed `GET /api/v1/documents/:id` until it answers 200.',
      '',
      markdownTable(
        ['measure', 'samples', 'p50 ms', 'p99 ms', 'max ms'],
        [
          row('append → standby /health applied_seq', viaHealth),
          row('append → standby document readable', viaDoc),
          row('both', [...viaHealth, ...viaDoc]),
          row("master's ack → standby has it", afterAck),
          row('master write, wait "applied" (client)', writeMs),
        ],
      ),
      missed > 0
        ? `\n${missed} sample(s) not seen on the standby within ${POLL_DEADLINE_MS} ms (left out).`
        : '',
      '',
      '### Goals',
      '',
      `- replication lag p99 ≤ 100 ms on loopback: ${goalVerdict(all.p99 <= 100, `${formatMs(all.p99)} ms`, '≤ 100 ms')}`,
    ].join('\n');
  },
};

async function waitApplied(node: NodeProcess, seq: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const h = await node.client.health().catch(() => null);
    if (h && compareSeq(h.body.index.applied_seq, seq) >= 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${node.id} did not apply ${seq} within ${timeoutMs} ms`);
}

type Seen = { wallMs: number; perfMs: number } | null;

async function pollHealthFor(node: NodeProcess, seq: string): Promise<Seen> {
  const deadline = performance.now() + POLL_DEADLINE_MS;
  while (performance.now() < deadline) {
    const h = await node.client.health().catch(() => null);
    if (h && compareSeq(h.body.index.applied_seq, seq) >= 0)
      return { wallMs: Date.now(), perfMs: performance.now() };
  }
  return null;
}

async function pollDocFor(node: NodeProcess, id: string): Promise<Seen> {
  const deadline = performance.now() + POLL_DEADLINE_MS;
  while (performance.now() < deadline) {
    const r = await node.client
      .signed('GET', `/api/v1/documents/${encodeURIComponent(id)}`)
      .catch(() => null);
    if (r?.status === 200) return { wallMs: Date.now(), perfMs: performance.now() };
  }
  return null;
}
