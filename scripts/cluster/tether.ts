/**
 * `node --import tsx scripts/cluster/tether.ts <parentPid> <command> [args...]`: runs the command
 * and kills it (SIGTERM, then SIGKILL) as soon as <parentPid> is gone. The local cluster starts
 * redis-server (and the bench its nginx) through it, so that even `kill -9` of the launcher
 * leaves nothing behind. Processes of our own (search node, edge host) watch their parent with the
 * same tetherToParent instead of a wrapper.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tetherToParent } from '../../worker-node/util/tether.ts';

/** Spawns `command` under a tether to `parentPid`; signals sent to the result reach the command. */
export function spawnTethered(
  parentPid: number,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, String(parentPid), command, ...args],
    options,
  );
}

function runTethered(parent: number, cmd: string, args: string[]): void {
  const child = spawn(cmd, args, { stdio: 'inherit' });
  const stop = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  };
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, stop);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  tetherToParent(parent, stop);
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const [parentArg, cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    process.stderr.write('usage: tether.ts <parentPid> <command> [args...]\n');
    process.exit(2);
  }
  runTethered(Number(parentArg), cmd, args);
}
