/**
 * Starts the edge Worker in real workerd through Miniflare, configured from wrangler.toml.
 *
 * Reusable by every test that needs the edge (these edge tests, and the full-stack integration
 * tests with real search nodes):
 *
 *   const edge = await startEdge({ vars: { PROBE_INTERVAL_MS: '100' } });
 *   const res = await edge.keyed('/api/v1/search', { method: 'POST', ... });   // real HTTP, with a search key
 *   await edge.admin('/api/v1/admin/nodes', { method: 'POST', json: { id, url } }); // with the Bearer token
 *   await edge.scheduled();      // runs the cron handler
 *   edge.logs()                  // the Worker's JSON log lines, parsed
 *   await edge.stop();
 *
 * The bundle is built once per test process with esbuild (Miniflare runs JavaScript, the edge is
 * TypeScript + JSX), into a temporary folder so that parallel test files never share one.
 * Durable Object storage is in memory: every startEdge() is a fresh cluster.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse as parseToml } from 'smol-toml';
import { ROOT } from './node-process.ts';

/** The repository root (the tests' name for it). */
export const REPO_ROOT = ROOT;

export interface StartEdgeOptions {
  /** Overrides of wrangler.toml [vars], e.g. a short PROBE_INTERVAL_MS for tests. */
  vars?: Record<string, string>;
  adminToken?: string;
  clusterSecret?: string;
  /** API_KEYS, the search and embeddings keys (a random one when absent). */
  apiKeys?: string;
  /**
   * Workers Rate Limiting bindings, e.g. { SEARCH_RATE_LIMITER: { simple: { limit: 5, period: 10 } } }.
   * Only where a test asks: wrangler.toml's [[ratelimits]] would limit local clusters and benches.
   */
  ratelimits?: Record<string, { simple: { limit: number; period: 10 | 60 } }>;
  /** Real TCP port for edge.url; 0 (default) picks a free one. */
  port?: number;
  /** Print the Worker's log lines to this process's stdout as they come (debugging). */
  echoLogs?: boolean;
  /**
   * Keep the Worker's JSON log lines for `logs()` (default true). The local cluster turns this
   * off: parsing one access-log line per search costs CPU that the search nodes need.
   */
  collectLogs?: boolean;
}

export interface EdgeFetchInit extends Omit<RequestInit, 'body'> {
  body?: string | Uint8Array;
  /** Sent as JSON with content-type application/json. */
  json?: unknown;
}

export interface EdgeHandle {
  mf: Miniflare;
  /** Base URL of the edge, e.g. http://127.0.0.1:40123 */
  url: string;
  adminToken: string;
  clusterSecret: string;
  /** The first of API_KEYS: what search and /v1/embeddings accept besides the admin token. */
  apiKey: string;
  fetch(path: string, init?: EdgeFetchInit): Promise<Response>;
  /** Same, with `Authorization: Bearer <adminToken>`. */
  admin(path: string, init?: EdgeFetchInit): Promise<Response>;
  /** Same, with `Authorization: Bearer <apiKey>` (search, embeddings). */
  keyed(path: string, init?: EdgeFetchInit): Promise<Response>;
  /** Runs the Worker's scheduled() (cron) handler once. */
  scheduled(cron?: string): Promise<void>;
  /** Every JSON log line the Worker and the coordinator printed so far (non-JSON lines dropped). */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** wrangler.toml's compatibility_date and [vars] (string values; all this file uses). */
export function readWranglerConfig(path: string = join(REPO_ROOT, 'wrangler.toml')): {
  compatibilityDate: string;
  vars: Record<string, string>;
} {
  const config = parseToml(readFileSync(path, 'utf8'));
  const compatibilityDate = config.compatibility_date;
  if (typeof compatibilityDate !== 'string') throw new Error(`no compatibility_date in ${path}`);
  const vars: Record<string, string> = {};
  const table = config.vars;
  if (table && typeof table === 'object' && !Array.isArray(table))
    for (const [name, value] of Object.entries(table)) if (typeof value === 'string') vars[name] = value;
  return { compatibilityDate, vars };
}

let bundlePromise: Promise<string> | null = null;

/** Bundles edge/index.ts to one ES module for workerd; cached for the test process. */
export function buildEdgeBundle(): Promise<string> {
  bundlePromise ??= (async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'gte-edge-'));
    const outfile = join(outdir, 'index.mjs');
    await build({
      entryPoints: [join(REPO_ROOT, 'edge/index.ts')],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser'],
      external: ['cloudflare:*', 'node:*'],
      jsx: 'automatic',
      jsxImportSource: 'hono/jsx',
      logLevel: 'warning',
    });
    return outfile;
  })();
  return bundlePromise;
}

function collectLines(stream: Readable, sink: Record<string, unknown>[], echo: boolean): void {
  createInterface({ input: stream }).on('line', (line) => {
    if (echo) console.log(line);
    const start = line.indexOf('{');
    if (start < 0) return;
    try {
      sink.push(JSON.parse(line.slice(start)) as Record<string, unknown>);
      if (sink.length > 20_000) sink.splice(0, 10_000);
    } catch {
      // workerd's own lines are not JSON; the tests only read ours
    }
  });
}

export async function startEdge(options: StartEdgeOptions = {}): Promise<EdgeHandle> {
  const scriptPath = await buildEdgeBundle();
  const { compatibilityDate, vars } = readWranglerConfig();
  const adminToken = options.adminToken ?? `test-admin-${crypto.randomUUID()}`;
  const clusterSecret = options.clusterSecret ?? `test-secret-${crypto.randomUUID()}`;
  const apiKeys = options.apiKeys ?? `test-key-${crypto.randomUUID()}`;
  const apiKey = apiKeys.split(/[\s,]+/).find((key) => key.length > 0) ?? '';
  const lines: Record<string, unknown>[] = [];
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    // workerd names modules relative to this root; the bundle sits in a temp folder outside the repo.
    modulesRoot: dirname(scriptPath),
    compatibilityDate,
    host: '127.0.0.1',
    port: options.port ?? 0,
    bindings: {
      ...vars,
      ...options.vars,
      ADMIN_TOKEN: adminToken,
      CLUSTER_SECRET: clusterSecret,
      API_KEYS: apiKeys,
    },
    durableObjects: { COORDINATOR: { className: 'ClusterCoordinator', useSQLite: true } },
    ...(options.ratelimits ? { ratelimits: options.ratelimits } : {}),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        if (options.collectLogs === false && !options.echoLogs) stream.resume();
        else collectLines(stream, lines, options.echoLogs ?? false);
      }
    },
  });
  const url = (await mf.ready).origin;

  const edgeFetch = (path: string, init: EdgeFetchInit = {}) => {
    const { json, body, ...rest } = init;
    const headers = new Headers(rest.headers);
    let payload = body;
    if (json !== undefined) {
      payload = JSON.stringify(json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return fetch(`${url}${path}`, { ...rest, headers, ...(payload !== undefined ? { body: payload } : {}) });
  };

  const bearer =
    (token: string) =>
    (path: string, init: EdgeFetchInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return edgeFetch(path, { ...init, headers });
    };

  return {
    mf,
    url,
    adminToken,
    clusterSecret,
    apiKey,
    fetch: edgeFetch,
    admin: bearer(adminToken),
    keyed: bearer(apiKey),
    async scheduled(cron = '* * * * *') {
      const worker = await mf.getWorker();
      await worker.scheduled({ cron });
    },
    logs: () => lines,
    stop: () => mf.dispose(),
  };
}
