/**
 * The native parts of the bench-only peers (hnswlib-node, usearch), built on first use. npm runs
 * no install script these packages bring (package.json allowScripts), because theirs call node-gyp,
 * which fetches Node's headers from the network; here node-gyp is pointed at the headers this
 * Node ships (`--nodedir`), as the bootstrap does for faiss-node. hnswlib-node's build takes
 * seconds, once per node_modules. usearch ships prebuilt addons for linux-x64 and others inside
 * its npm package; where none fits, its build compiles its SIMD library (NumKong) for every
 * instruction set it knows, tens of minutes on 2 busy cores, so it runs only when asked
 * (GTE_BENCH_BUILD_PEERS=1) and is given up after BUILD_TIMEOUT_MS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const BUILD_TIMEOUT_MS = 15 * 60_000;

function nodeGyp(): string | null {
  const npmDir = dirname(
    dirname(
      require.resolve('npm/package.json', { paths: [dirname(process.execPath), '/usr/lib/node_modules'] }),
    ),
  );
  const path = join(npmDir, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(path) ? path : null;
}

/** The module, once its native part answers (usearch loads that only for its first index). */
function loaded(name: 'hnswlib-node' | 'usearch'): unknown {
  const module = require(name);
  if (name === 'usearch') new module.Index({ dimensions: 2, metric: 'ip' });
  return module;
}

/** The peer's module, or why it cannot be had offline. */
export function loadPeerAddon(
  name: 'hnswlib-node' | 'usearch',
  opts: { buildUnasked: boolean },
): { module: unknown } | { missing: string } {
  // Not through require.resolve(`${name}/package.json`): usearch's `exports` does not list it.
  const packageDir = (require.resolve.paths(name) ?? [])
    .map((dir) => join(dir, name))
    .find((dir) => existsSync(join(dir, 'package.json')));
  if (!packageDir) return { missing: 'not installed (npm install: it is a devDependency)' };
  try {
    return { module: loaded(name) };
  } catch {
    // Not built yet: build it below.
  }
  const nodedir = dirname(dirname(process.execPath));
  if (!opts.buildUnasked && process.env.GTE_BENCH_BUILD_PEERS !== '1')
    return {
      missing:
        `its native addon is not built (npm runs no install script for it); GTE_BENCH_BUILD_PEERS=1 builds it ` +
        `(node-gyp rebuild --nodedir=${nodedir}, offline; tens of minutes on 2 cores)`,
    };
  let gyp: string | null;
  try {
    gyp = nodeGyp();
  } catch {
    gyp = null;
  }
  if (!gyp) return { missing: 'node-gyp (bundled with npm) was not found to build its native addon' };
  const built = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
    cwd: packageDir,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
  if (built.error)
    return {
      missing: `its native addon did not build within ${BUILD_TIMEOUT_MS / 60_000} minutes here (node-gyp rebuild)`,
    };
  if (built.status !== 0) {
    const last = `${built.stderr}`.trim().split('\n').slice(-3).join(' / ');
    return {
      missing: `its native addon did not build offline (node-gyp rebuild --nodedir=${nodedir}): ${last}`,
    };
  }
  try {
    return { module: loaded(name) };
  } catch (err) {
    return { missing: `built, but does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}
