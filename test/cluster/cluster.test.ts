/**
 * `npm run cluster` as a process (ARCHITECTURE.md section 9): it writes the state file in
 * its exact shape once everything is ready; a search node killed with kill -9 by the pid in that
 * file shows as down at the edge; SIGTERM stops every process it started (search nodes, the edge
 * host and its workerd, the private redis-server and its tether); and after kill -9 of the
 * launcher itself, its tethered children exit on their own.
 *
 * "Every process it started" is checked two ways: the process tree under the launcher, recorded
 * from /proc once it is ready, and a final scan of /proc for any process whose environment names
 * the launcher as GTE_PARENT_PID (which also catches one that was re-parented to init).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/cluster/node-process.ts';

interface Proc {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process even if the pid is reused. */
  start: string;
  comm: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is the state: a zombie has exited and only waits for its parent to reap it.
    if (fields[0] === 'Z') return null;
    return {
      pid,
      ppid: Number(fields[1]),
      start: fields[19]!,
      comm: stat.slice(stat.indexOf('(') + 1, close),
    };
  } catch {
    return null;
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
}

function descendants(root: number): Proc[] {
  const procs = allProcs();
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of procs) {
      if (p.ppid === parent) {
        out.push(p);
        queue.push(p.pid);
      }
    }
  }
  return out;
}

/** Still the same process (pid not exited, and not reused by a newer one). */
function alive(p: Proc): boolean {
  const now = readProc(p.pid);
  return now !== null && now.start === p.start;
}

/** Processes whose environment says they are tethered to `launcher`. */
function tetheredTo(launcher: number): Proc[] {
  return allProcs().filter((p) => {
    try {
      return readFileSync(`/proc/${p.pid}/environ`, 'utf8')
        .split('\0')
        .includes(`GTE_PARENT_PID=${launcher}`);
    } catch {
      return false;
    }
  });
}

async function until<T>(
  probe: () => Promise<T | null | false> | T | null | false,
  timeoutMs: number,
  what: string | (() => string),
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

interface Launched {
  child: ChildProcess;
  statePath: string;
  dir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const launched: Launched[] = [];
const recorded: Proc[] = [];

function launch(nodes: number): Launched {
  const dir = mkdtempSync(join(tmpdir(), 'gte-cluster-test-'));
  const statePath = join(dir, 'state.json');
  // A private redis-server, so that its cleanup is checked too; fast probes, so a dead node shows soon.
  // The data directory is ours (removed in afterAll): after kill -9 the launcher cannot remove its own.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts', 'cluster', 'main.ts'),
      '--nodes',
      String(nodes),
      '--state-file',
      statePath,
      '--data-dir',
      join(dir, 'data'),
      '--private-redis',
      '--probe-interval-ms',
      '500',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const l = { child, statePath, dir, output: () => output, exited };
  launched.push(l);
  return l;
}

async function readState(l: Launched): Promise<Record<string, unknown>> {
  // The launcher writes the file atomically (temp + rename) only once every part is ready; cold
  // starts of the nodes and workerd take tens of seconds on a 2-core machine.
  return until(
    () => {
      if (l.child.exitCode !== null)
        throw new Error(`the cluster exited with ${l.child.exitCode}:\n${l.output()}`);
      return existsSync(l.statePath)
        ? (JSON.parse(readFileSync(l.statePath, 'utf8')) as Record<string, unknown>)
        : null;
    },
    120_000,
    'the state file',
  );
}

afterAll(async () => {
  // Whatever a failed test left behind.
  for (const l of launched)
    if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
  for (const p of recorded) if (alive(p)) process.kill(p.pid, 'SIGKILL');
  for (const l of launched) rmSync(l.dir, { recursive: true, force: true });
});

describe('npm run cluster (scripts/cluster/main.ts) as a process', () => {
  it('writes the state file, reports a killed node down, and SIGTERM leaves no process behind', async () => {
    const l = launch(2);
    const state = await readState(l);

    expect(Object.keys(state).sort()).toEqual([
      'admin_token',
      'api_key',
      'cluster_secret',
      'edge_url',
      'nodes',
      'redis_prefix',
      'redis_url',
    ]);
    expect(state.edge_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const k of ['admin_token', 'api_key', 'cluster_secret', 'redis_prefix'] as const)
      expect(typeof state[k] === 'string' && (state[k] as string).length > 0, k).toBe(true);
    expect(state.redis_url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+/);
    const nodes = state.nodes as { id: string; url: string; pid: number; data_dir: string }[];
    expect(nodes).toHaveLength(2);
    for (const n of nodes) {
      expect(Object.keys(n).sort()).toEqual(['data_dir', 'id', 'pid', 'url']);
      expect(n.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Number.isInteger(n.pid)).toBe(true);
      expect(existsSync(n.data_dir)).toBe(true);
    }
    expect(nodes.map((n) => n.id)).toEqual(['node-1', 'node-2']);

    const tree = descendants(l.child.pid!);
    recorded.push(...tree);
    // The pid in the file is the search node itself (kill -9 must hit it, not a wrapper).
    for (const n of nodes) expect(tree.find((p) => p.pid === n.pid)?.comm).toMatch(/^node/);
    expect(tree.some((p) => p.comm.startsWith('workerd'))).toBe(true);
    expect(tree.some((p) => p.comm.startsWith('redis-server'))).toBe(true);
    expect(tetheredTo(l.child.pid!).length).toBeGreaterThanOrEqual(3); // both nodes and the edge host at least

    const edge = state.edge_url as string;
    const status = async () =>
      (await fetch(`${edge}/api/v1/status`, { signal: AbortSignal.timeout(5000) })).json() as Promise<{
        current_master: string;
        nodes: { id: string; state: string }[];
      }>;
    const master = (await status()).current_master;
    const victim = nodes.find((n) => n.id !== master)!;
    process.kill(victim.pid, 'SIGKILL');
    await until(
      async () => (await status()).nodes.find((n) => n.id === victim.id)?.state === 'down',
      30_000,
      `the edge to report ${victim.id} down`,
    );

    l.child.kill('SIGTERM');
    const exit = await l.exited;
    expect(exit, l.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(l.statePath)).toBe(false);
    // SIGTERM waits for its children before exiting; the poll covers a grandchild still on its way out.
    const left = await until(
      () => (tree.every((p) => !alive(p)) ? 'none' : null),
      30_000,
      () =>
        `these to exit: ${tree
          .filter(alive)
          .map((p) => `${p.pid} ${p.comm}`)
          .join(', ')}`,
    );
    expect(left).toBe('none');
    expect(tetheredTo(l.child.pid!)).toEqual([]);
  }, 180_000);

  it('kill -9 of the launcher: its tethered children exit by themselves', async () => {
    const l = launch(1);
    const state = await readState(l);
    const tree = descendants(l.child.pid!);
    recorded.push(...tree);
    const nodePid = (state.nodes as { pid: number }[])[0]!.pid;
    expect(tree.map((p) => p.pid)).toContain(nodePid);
    expect(tree.length).toBeGreaterThanOrEqual(4); // node, edge host, workerd, redis-server (+ tethers)

    l.child.kill('SIGKILL');
    await l.exited;
    // Tethers poll their parent every 500 ms, then stop their child (SIGKILL 3 s after SIGTERM at worst).
    await until(
      () => (tree.every((p) => !alive(p)) ? true : null),
      30_000,
      () =>
        `the launcher's children to exit: ${tree
          .filter(alive)
          .map((p) => `${p.pid} ${p.comm}`)
          .join(', ')}`,
    );
    expect(tetheredTo(l.child.pid!)).toEqual([]);
  }, 180_000);
});
