/**
 * Starts a real search-node process (tsx worker-node/main.ts) and waits until it is ready.
 * Shared by the local cluster launcher, the benchmarks and the integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeClient } from './node-client.ts';
import { freePort } from './ports.ts';
import { GiveUp, waitFor } from './wait.ts';
import { REDIS_ENV_NAMES, type RedisTarget, redisTargetEnv } from '../../worker-node/redis-connection.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NodeProcess {
  id: string;
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  client: NodeClient;
  logPath: string;
  /** SIGTERM and wait for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/** The environment naming `redis` for a child: exactly one way to reach it. */
export function redisEnv(redis: string | RedisTarget): Record<string, string> {
  return redisTargetEnv(typeof redis === 'string' ? { kind: 'single', url: redis } : redis);
}

/** `env` without any Redis setting: a child is told where Redis is, never left to inherit it. */
export function withoutRedisSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of REDIS_ENV_NAMES) delete out[name];
  return out;
}

export interface StartNodeOptions {
  id: string;
  dataDir: string;
  /** Where Redis is: a URL, or any topology (redis-connection.ts). */
  redis: string | RedisTarget;
  redisPrefix: string;
  secret: string;
  port?: number;
  env?: Record<string, string>;
  logDir?: string;
  readyTimeoutMs?: number;
}

export async function startNode(opts: StartNodeOptions): Promise<NodeProcess> {
  const port = opts.port ?? (await freePort());
  const logDir = opts.logDir ?? opts.dataDir;
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${opts.id}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  // node --import tsx (not the tsx CLI): the pid we hold is then the node process itself, so a
  // test's kill -9 or SIGSTOP hits the search node and not a wrapper.
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker-node', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...withoutRedisSettings(process.env),
      NODE_ID: opts.id,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: opts.dataDir,
      ...redisEnv(opts.redis),
      REDIS_PREFIX: opts.redisPrefix,
      CLUSTER_SECRET: opts.secret,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const client = new NodeClient(url, opts.secret, opts.id);
  const proc: NodeProcess = {
    id: opts.id,
    url,
    port,
    dataDir: opts.dataDir,
    child,
    client,
    logPath,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  await waitReady(proc, opts.readyTimeoutMs ?? 90_000);
  return proc;
}

async function waitReady(proc: NodeProcess, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => (exitCode = c));
  try {
    await waitFor(
      `search node ${proc.id} to be ready`,
      async () => {
        if (exitCode !== undefined)
          throw new GiveUp(
            `search node ${proc.id} exited with code ${exitCode} before it was ready; see ${proc.logPath}`,
          );
        const h = await proc.client.health();
        return h.status === 200 && (h.body as { ready?: boolean }).ready === true;
      },
      timeoutMs,
      100,
    );
  } catch (err) {
    if (err instanceof GiveUp) throw err;
    proc.child.kill('SIGKILL');
    throw new Error(`search node ${proc.id} not ready within ${timeoutMs} ms; see ${proc.logPath}`);
  }
}
