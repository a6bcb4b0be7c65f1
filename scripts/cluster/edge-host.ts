/**
 * Runs the edge Worker (real workerd through Miniflare, configured from wrangler.toml) as a
 * process of its own, for the local cluster. Prints one JSON line `{"edge_url": ...}` on stdout
 * when ready; stops on SIGTERM/SIGINT or when GTE_PARENT_PID is gone.
 *
 * Settings come from the environment: GTE_EDGE_PORT, ADMIN_TOKEN, CLUSTER_SECRET, API_KEYS, and any
 * wrangler.toml var (NODES, PROBE_INTERVAL_MS, ...) overriding the file's value.
 */
import { tetherToParent } from '../../worker-node/util/tether.ts';
import { startEdge, readWranglerConfig } from './edge.ts';

const { vars: fileVars } = readWranglerConfig();
const vars: Record<string, string> = {};
for (const name of Object.keys(fileVars))
  if (process.env[name] !== undefined) vars[name] = process.env[name]!;

const edge = await startEdge({
  vars,
  port: Number(process.env.GTE_EDGE_PORT ?? 0),
  adminToken: process.env.ADMIN_TOKEN,
  clusterSecret: process.env.CLUSTER_SECRET,
  apiKeys: process.env.API_KEYS,
  echoLogs: process.env.GTE_EDGE_ECHO === '1',
  collectLogs: false,
});
process.stdout.write(`${JSON.stringify({ edge_url: edge.url })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await edge.stop().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
const parent = Number(process.env.GTE_PARENT_PID ?? 0);
if (parent) tetherToParent(parent, () => void stop());
