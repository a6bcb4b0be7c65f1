/**
 * The evaluation set on disk, in `.gte/eval/` (never committed: it is rebuilt from the seed by
 * scripts/corpus/eval-set.ts whenever it is missing or was built by other generator sources), as
 * `documents.jsonl` and `queries.json`, plain files anyone can read, diff or feed to the CLI.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cluster/node-process.ts';
import {
  buildEvalSet,
  EVAL_CATEGORIES,
  EVAL_SEED,
  EVAL_SET_VERSION,
  type EvalDocument,
  type EvalQuery,
  type EvalSet,
} from '../corpus/eval-set.ts';

export const EVAL_DIR = join(ROOT, '.gte', 'eval');

interface Manifest {
  version: number;
  seed: number;
  /** Hash of the generator's sources: an edited word list rebuilds the set without a version bump. */
  sources: string;
  documents: number;
  queries: number;
}

/** sha256 over scripts/corpus/ (the generator, its word lists, the PRNG and the filler it reuses). */
function generatorSources(): string {
  const dir = join(ROOT, 'scripts', 'corpus');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort())
    if (name.endsWith('.ts')) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex').slice(0, 16);
}

/** The stored set when it matches this generator and seed; else builds and stores it first. */
export function loadOrBuildEvalSet(
  progress: (line: string) => void,
  dir = EVAL_DIR,
  rebuild = false,
): EvalSet {
  const manifestPath = join(dir, 'manifest.json');
  if (!rebuild && existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (m.version === EVAL_SET_VERSION && m.seed === EVAL_SEED && m.sources === generatorSources()) {
      const documents = readFileSync(join(dir, 'documents.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as EvalDocument);
      const queries = JSON.parse(readFileSync(join(dir, 'queries.json'), 'utf8')) as EvalQuery[];
      if (documents.length === m.documents && queries.length === m.queries)
        return { version: m.version, seed: m.seed, documents, queries };
    }
  }
  progress(`building the evaluation set (seed ${EVAL_SEED}, generator v${EVAL_SET_VERSION}) into ${dir}`);
  const started = performance.now();
  const set = buildEvalSet(EVAL_SEED);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'documents.jsonl'), `${set.documents.map((d) => JSON.stringify(d)).join('\n')}\n`);
  writeFileSync(join(dir, 'queries.json'), `${JSON.stringify(set.queries, null, 1)}\n`);
  const manifest: Manifest = {
    version: set.version,
    seed: set.seed,
    sources: generatorSources(),
    documents: set.documents.length,
    queries: set.queries.length,
  };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const chars = set.documents.reduce((n, d) => n + d.text.length, 0);
  const perCategory = EVAL_CATEGORIES.map(
    (c) => `${c} ${set.queries.filter((q) => q.category === c).length}`,
  ).join(', ');
  progress(
    `  ${set.documents.length} documents (${(chars / 1e6).toFixed(1)} M characters), ${set.queries.length} questions (${perCategory}) in ${Math.round(performance.now() - started)} ms`,
  );
  return set;
}
