#!/usr/bin/env node
/**
 * `node tether.mjs <parentPid> <command> [args...]`: runs the command and kills it (SIGTERM, then
 * SIGKILL) as soon as <parentPid> is gone. The local cluster starts redis-server and the edge
 * host through it, so that even `kill -9` of the cluster launcher leaves nothing behind.
 */
import { spawn } from 'node:child_process';

const [parentArg, cmd, ...args] = process.argv.slice(2);
const parent = Number(parentArg);
const child = spawn(cmd, args, { stdio: 'inherit' });
const stop = () => {
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 3000).unref();
};
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, stop);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stop();
  }
}, 500);
