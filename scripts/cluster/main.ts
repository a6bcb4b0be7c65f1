/**
 * `npm run cluster -- --nodes 2 --state-file PATH [--redis single|sentinel|cluster]`: a local
 * GTE-Pro cluster on loopback (Redis, N search nodes, the edge in workerd). Writes the state file when every part is ready, then
 * stays in the foreground; SIGINT/SIGTERM stops everything it started.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { describeRedisTarget } from '../../worker-node/redis-connection.ts';
import { startCluster, writeStateFile } from './launch.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2' },
    'state-file': { type: 'string' },
    'data-dir': { type: 'string' },
    'edge-port': { type: 'string' },
    'private-redis': { type: 'boolean', default: false },
    redis: { type: 'string', default: 'single' },
    'probe-interval-ms': { type: 'string' },
    faults: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm run cluster -- [--nodes N (1..5, default 2)] [--state-file PATH] [--data-dir DIR]
       [--edge-port PORT] [--private-redis] [--redis single|sentinel|cluster] [--probe-interval-ms MS] [--faults]
Starts Redis (REDIS_URL if it answers, else a private redis-server; --redis sentinel: a master,
a replica and three Sentinels; --redis cluster: a three-master Redis Cluster), N search nodes and
the edge (workerd via miniflare, from wrangler.toml). Ctrl-C stops everything.\n`);
  process.exit(0);
}

const nodes = Number(values.nodes);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 5) {
  process.stderr.write(`--nodes must be an integer from 1 to 5 (got ${values.nodes})\n`);
  process.exit(2);
}
const redisTopology = values.redis;
if (redisTopology !== 'single' && redisTopology !== 'sentinel' && redisTopology !== 'cluster') {
  process.stderr.write(`--redis must be single, sentinel or cluster (got ${redisTopology})\n`);
  process.exit(2);
}
const statePath = values['state-file'] ? resolve(values['state-file']) : null;
const log = (msg: string) => process.stderr.write(`[cluster] ${msg}\n`);

const cluster = await startCluster({
  nodes,
  dataDir: values['data-dir'] ? resolve(values['data-dir']) : undefined,
  privateRedis: values['private-redis'],
  redisTopology,
  edgePort: values['edge-port'] ? Number(values['edge-port']) : undefined,
  edgeVars: values['probe-interval-ms'] ? { PROBE_INTERVAL_MS: values['probe-interval-ms'] } : {},
  nodeEnv: values.faults ? { FAULT_INJECTION: '1' } : {},
  onProgress: log,
}).catch((err: Error) => {
  log(`failed to start: ${err.message}`);
  process.exit(1);
});

if (statePath) writeStateFile(statePath, cluster.state);
log(
  `ready: edge ${cluster.state.edge_url}, nodes ${cluster.state.nodes.map((n) => `${n.id}=${n.url} (pid ${n.pid})`).join(', ')}`,
);
if (cluster.redisTopology)
  log(`Redis ${cluster.redisTopology.kind}: ${describeRedisTarget(cluster.redisTopology.target)}`);
log(`admin token: ${cluster.state.admin_token}`);
log(
  `search key: ${cluster.state.api_key} (Authorization: Bearer <key> for /api/v1/search and /v1/embeddings)`,
);
if (statePath) log(`state file: ${statePath}`);
log('Ctrl-C to stop');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await cluster.stop();
  if (statePath) rmSync(statePath, { force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
