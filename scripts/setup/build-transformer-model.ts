/**
 * Builds a transformer-shaped benchmark model offline: the BERT/GTE encoder (gte-small sizes by
 * default) with seeded pseudo-random weights, laid out like a Hugging Face sentence-transformers
 * export (model.onnx with input_ids, attention_mask, token_type_ids → last_hidden_state;
 * config.json; 1_Pooling/config.json; tokenizer.json). The tokenizer is the default model's
 * (.gte/models/glove-100d-demo/tokenizer.json, built by the bootstrap), so the vocabulary matches.
 * Its vectors mean nothing; its cost per text is a real transformer's (BENCHMARKS.md, suite node).
 *
 * Deterministic and idempotent like build-demo-model.ts. Not part of the bootstrap (the full-size
 * model takes a while); `npm run bench -- --suite node` builds it when it is missing.
 *
 *   tsx scripts/setup/build-transformer-model.ts [small|base] [outDir]   (default small → .gte/models/gte-small-shaped)
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type EncoderShape, encodeEncoder, INIT_RANGE } from './transformer-model/graph.ts';

/** Bump whenever the output would change, so that old builds are replaced. */
const BUILDER_VERSION = 1;
const SEED = 13;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_TOKENIZER = path.join(ROOT, '.gte', 'models', 'glove-100d-demo', 'tokenizer.json');
const STAMP = 'gte-pro-build.json';

export type TransformerSize = Omit<EncoderShape, 'vocabSize'>;
export const SIZES = {
  small: { hidden: 384, heads: 12, intermediate: 1536, layers: 12, maxPositions: 512, typeVocab: 2 },
  base: { hidden: 768, heads: 12, intermediate: 3072, layers: 12, maxPositions: 512, typeVocab: 2 },
} as const satisfies Record<string, TransformerSize>;

export interface TransformerModel {
  dir: string;
  id: string;
  checksum: string;
  dimension: number;
}

/**
 * Builds the model into `outDir` (temp dir, then rename) unless the same build is already there.
 *
 * @example await buildTransformerModel('.gte/models/tiny', { size: { ...SIZES.small, layers: 2, hidden: 64, heads: 4, intermediate: 256 } });
 */
export async function buildTransformerModel(
  outDir: string,
  opts: {
    size?: TransformerSize;
    id?: string;
    tokenizerPath?: string;
    onProgress?: (msg: string) => void;
  } = {},
): Promise<TransformerModel> {
  const dir = path.resolve(outDir);
  const size = opts.size ?? SIZES.small;
  const id = opts.id ?? `gte-pro/bert-shaped-h${size.hidden}-l${size.layers}`;
  const progress = opts.onProgress ?? (() => {});
  const tokenizer = await readFile(opts.tokenizerPath ?? DEFAULT_TOKENIZER, 'utf8');
  const vocab = (JSON.parse(tokenizer) as { model: { vocab: Record<string, number> } }).model.vocab;
  const shape: EncoderShape = { ...size, vocabSize: Object.keys(vocab).length };
  const key = JSON.stringify({
    builder: BUILDER_VERSION,
    seed: SEED,
    id,
    shape,
    tokenizer: sha256(tokenizer),
  });
  const existing = await readStamp(dir);
  if (existing?.key === key) return { dir, id, checksum: existing.checksum, dimension: size.hidden };

  progress(`encoding ${size.layers} layers, hidden ${size.hidden}, vocabulary ${shape.vocabSize}`);
  const modelBytes = encodeEncoder(shape, SEED, String(BUILDER_VERSION));
  const checksum = sha256(modelBytes);
  const config = {
    _name_or_path: id,
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: size.hidden,
    num_attention_heads: size.heads,
    intermediate_size: size.intermediate,
    num_hidden_layers: size.layers,
    max_position_embeddings: size.maxPositions,
    type_vocab_size: size.typeVocab,
    vocab_size: shape.vocabSize,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-12,
    initializer_range: INIT_RANGE,
    pad_token_id: 0,
  };
  const pooling = { word_embedding_dimension: size.hidden, pooling_mode_mean_tokens: true };
  const tmp = `${dir}.tmp-${process.pid}-${randomUUID()}`;
  await mkdir(path.join(tmp, '1_Pooling'), { recursive: true });
  try {
    await writeFile(path.join(tmp, 'model.onnx'), modelBytes);
    await writeFile(path.join(tmp, 'tokenizer.json'), tokenizer);
    await writeFile(path.join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(path.join(tmp, '1_Pooling', 'config.json'), `${JSON.stringify(pooling, null, 2)}\n`);
    // Written last: its presence marks a complete build.
    await writeFile(path.join(tmp, STAMP), `${JSON.stringify({ key, checksum }, null, 2)}\n`);
    await mkdir(path.dirname(dir), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  progress(`model ready in ${dir} (${(modelBytes.length / 1e6).toFixed(0)} MB)`);
  return { dir, id, checksum, dimension: size.hidden };
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function readStamp(dir: string): Promise<{ key: string; checksum: string } | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, STAMP), 'utf8')) as { key: string; checksum: string };
  } catch {
    return null;
  }
}

/** Where the bench keeps the model of each size. */
export function transformerModelDir(name: keyof typeof SIZES): string {
  return path.join(ROOT, '.gte', 'models', `gte-${name}-shaped`);
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  const name = (process.argv[2] ?? 'small') as keyof typeof SIZES;
  if (!(name in SIZES)) {
    process.stderr.write(`usage: build-transformer-model.ts [small|base] [outDir]\n`);
    process.exit(2);
  }
  const started = performance.now();
  const log = (msg: string) => process.stderr.write(`[build-transformer-model] ${msg}\n`);
  buildTransformerModel(process.argv[3] ?? transformerModelDir(name), {
    size: SIZES[name],
    onProgress: log,
  }).then(
    (m) => log(`${m.id} sha256 ${m.checksum} in ${Math.round(performance.now() - started)} ms`),
    (err: unknown) => {
      log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
      process.exitCode = 1;
    },
  );
}
