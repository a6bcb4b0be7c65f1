/**
 * `npm run bench [-- --suite NAME ...] [--quick] [--n VECTORS] [--out FILE] [--no-write]`
 *
 * Runs the benchmark suites (one module each under suites/) against real processes on this
 * machine and writes each suite's results as a section of BENCHMARKS.md (replacing that suite's
 * previous section), headed by the command, the machine, the date and the load average.
 * Progress goes to stderr; the markdown also goes to stdout. Numbers never fail the run: only a
 * suite that cannot run at all makes the exit status non-zero.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../cluster/node-process.ts';
import { createContext } from './context.ts';
import { formatLoad, machineInfo } from './machine.ts';
import { writeSections } from './report.ts';
import type { Suite } from './suite.ts';
import { edgeSuite } from './suites/edge.ts';
import { exactSuite } from './suites/exact.ts';
import { failoverSuite } from './suites/failover.ts';
import { filterSuite } from './suites/filter.ts';
import { healthSuite } from './suites/health.ts';
import { hnswSuite } from './suites/hnsw.ts';
import { hnswScaleSuite } from './suites/hnsw-scale.ts';
import { nodeSuite } from './suites/node.ts';
import { peersSuite } from './suites/peers.ts';
import { readShareSuite } from './suites/read-share.ts';
import { reorgSuite } from './suites/reorg.ts';
import { replicationSuite } from './suites/replication.ts';
import { searchSuite } from './suites/search.ts';

export const SUITES: Suite[] = [
  nodeSuite,
  healthSuite,
  searchSuite,
  exactSuite,
  hnswSuite,
  hnswScaleSuite,
  peersSuite,
  reorgSuite,
  filterSuite,
  replicationSuite,
  edgeSuite,
  readShareSuite,
  failoverSuite,
];

const USAGE = `usage: npm run bench -- [--suite NAME]... [--quick] [--n VECTORS] [--out FILE] [--no-write]
  --suite NAME   run only this suite (repeatable): ${SUITES.map((s) => s.name).join(', ')}
  --quick        small corpus, short cells, 3 kills: about 3 minutes in all
  --n VECTORS    vectors in the in-process index suites (exact, peers: default 100000, quick 20000;
                 hnsw-scale: default 1000000, quick 50000)
  --out FILE     the markdown file whose sections are replaced (default BENCHMARKS.md)
  --no-write     print the results only`;

function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      n: { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = (values.suite ?? []).filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite ${unknown.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const chosen = values.suite ? SUITES.filter((s) => values.suite!.includes(s.name)) : SUITES;
  const quick = values.quick!;
  const out = resolve(ROOT, values.out ?? 'BENCHMARKS.md');
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const runStarted = Date.now();
  const machine = machineInfo();
  progress(
    `${quick ? 'quick' : 'full'} run of ${chosen.map((s) => s.name).join(', ')} on ${machine.nproc} cores (${machine.cpuModel}), load ${formatLoad(machine.loadAverage)}`,
  );

  const vectors = values.n === undefined ? undefined : Number(values.n);
  if (vectors !== undefined && !(Number.isInteger(vectors) && vectors >= 100)) {
    process.stderr.write(`--n must be a whole number of vectors, at least 100 (got ${values.n})\n${USAGE}\n`);
    return 2;
  }
  const ctx = await createContext({ quick, vectors, progress });
  let failed = 0;
  const cleanup = () => void ctx.cleanup().finally(() => process.exit(130));
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    for (const suite of chosen) {
      const started = Date.now();
      const loadStart = machineInfo().loadAverage;
      progress(`suite ${suite.name}: ${suite.title}`);
      let body: string;
      try {
        body = await suite.run(ctx);
      } catch (err) {
        failed++;
        progress(`suite ${suite.name} failed: ${(err as Error).stack ?? err}`);
        body = `**The suite could not run:** ${(err as Error).message.split('\n')[0]}`;
      }
      const loadEnd = machineInfo().loadAverage;
      const section = [
        `## ${suite.title}${quick ? ' (quick run)' : ''}`,
        '',
        `\`${command}\` · ${new Date(started).toISOString().replace(/\.\d+Z$/, 'Z')} · ${((Date.now() - started) / 1000).toFixed(0)} s · ` +
          `${machine.nproc} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node} · load average (1/5/15 min) at start ${formatLoad(loadStart)}, at end ${formatLoad(loadEnd)}`,
        '',
        body,
      ].join('\n');
      process.stdout.write(`\n${section}\n`);
      if (!values['no-write']) writeSections(out, [{ key: suite.name, body: section }]);
      progress(
        `suite ${suite.name} done in ${((Date.now() - started) / 1000).toFixed(0)} s${values['no-write'] ? '' : `; section written to ${out}`}`,
      );
    }
  } finally {
    await ctx.cleanup();
  }
  progress(`all done in ${((Date.now() - runStarted) / 1000).toFixed(0)} s`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
