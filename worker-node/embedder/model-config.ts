/**
 * Finds out what a model folder holds, so that the demo model and a real Hugging Face export
 * (`MODEL_DIR=/path/to/gte-small-onnx`) load through the same code:
 *   - GTE-Pro's own `gte-pro-model.json` (written by scripts/setup/build-demo-model.ts), or
 *   - a sentence-transformers export: `config.json` (hidden_size, max_position_embeddings),
 *     `1_Pooling/config.json` (CLS or mean), `model.onnx` or `onnx/model.onnx`, `tokenizer.json`.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { fileChecksum } from './checksum.ts';
import type { Pooling } from './pooling.ts';

export interface ModelConfig {
  id: string;
  dir: string;
  onnxPath: string;
  tokenizerPath: string;
  /** sha256 of the ONNX file. */
  checksum: string;
  dimension: number;
  pooling: Pooling;
  /** Token limit per text, [CLS] and [SEP] included. */
  maxLength: number;
}

const GteProManifest = z.object({
  id: z.string().min(1),
  dimension: z.number().int().positive(),
  pooling: z.enum(['mean', 'cls']),
  max_length: z.number().int().positive(),
  checksum: z.string().optional(),
});

const HfConfig = z.object({
  hidden_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive().optional(),
  _name_or_path: z.string().optional(),
});

const HfPooling = z.object({
  pooling_mode_cls_token: z.boolean().optional(),
  pooling_mode_mean_tokens: z.boolean().optional(),
});

/** BERT-family position tables stop at 512; a longer claim in config.json would crash the session. */
const HF_MAX_LENGTH = 512;

export async function loadModelConfig(modelDir: string): Promise<ModelConfig> {
  const dir = path.resolve(modelDir);
  const onnxPath = await firstExisting(dir, ['model.onnx', 'onnx/model.onnx']);
  const tokenizerPath = await firstExisting(dir, ['tokenizer.json', 'onnx/tokenizer.json']);
  if (!onnxPath || !tokenizerPath) {
    throw new Error(
      `model folder ${dir} has no ${onnxPath ? 'tokenizer.json' : 'model.onnx (or onnx/model.onnx)'}; ` +
        'build the default model with `npm run build-model`, or point MODEL_DIR at a Hugging Face ONNX export',
    );
  }
  const manifest = await readJson(path.join(dir, 'gte-pro-model.json'), GteProManifest);
  const checksum = await fileChecksum(onnxPath);
  if (manifest) {
    if (manifest.checksum && manifest.checksum !== checksum) {
      throw new Error(
        `${onnxPath} does not match the checksum in gte-pro-model.json; rebuild it with \`npm run build-model\``,
      );
    }
    const { id, dimension, pooling, max_length: maxLength } = manifest;
    return { id, dir, onnxPath, tokenizerPath, checksum, dimension, pooling, maxLength };
  }
  const config = await readJson(path.join(dir, 'config.json'), HfConfig);
  if (!config) {
    throw new Error(
      `model folder ${dir} has neither gte-pro-model.json nor a Hugging Face config.json with hidden_size`,
    );
  }
  const poolingConfig = await readJson(path.join(dir, '1_Pooling', 'config.json'), HfPooling);
  // GTE and most sentence-transformers models mean-pool; CLS only when the export says so.
  const pooling: Pooling =
    poolingConfig?.pooling_mode_cls_token && !poolingConfig.pooling_mode_mean_tokens ? 'cls' : 'mean';
  return {
    id: config._name_or_path || path.basename(dir),
    dir,
    onnxPath,
    tokenizerPath,
    checksum,
    dimension: config.hidden_size,
    pooling,
    maxLength: Math.min(config.max_position_embeddings ?? HF_MAX_LENGTH, HF_MAX_LENGTH),
  };
}

async function firstExisting(dir: string, candidates: string[]): Promise<string | null> {
  for (const rel of candidates) {
    const p = path.join(dir, rel);
    try {
      await access(p);
      return p;
    } catch {
      // try the next layout
    }
  }
  return null;
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}
