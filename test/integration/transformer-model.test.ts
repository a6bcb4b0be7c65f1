/**
 * The transformer-shaped benchmark model (scripts/setup/build-transformer-model.ts), built small
 * (2 layers, hidden 64) so it takes a second: a Hugging Face-style folder that MODEL_DIR can point
 * at, with the BERT export's inputs and outputs, and the real embedder giving unit vectors of the
 * right dimension, the same on every build.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../scripts/setup/build-demo-model.ts';
import {
  buildTransformerModel,
  DEFAULT_TOKENIZER,
  type TransformerModel,
  type TransformerSize,
} from '../../scripts/setup/build-transformer-model.ts';
import { createEmbedder } from '../../worker-node/embedder/index.ts';
import { loadModelConfig } from '../../worker-node/embedder/model-config.ts';

const TINY: TransformerSize = {
  hidden: 64,
  heads: 4,
  intermediate: 256,
  layers: 2,
  maxPositions: 512,
  typeVocab: 2,
};
const TEXTS = ['failover keeps answering', 'a GPU node died at noon', '向量检索'];

let root: string;
let model: TransformerModel;

beforeAll(async () => {
  // The tokenizer comes from the default model, which the bootstrap builds (found at once if so).
  await buildDemoModel(path.dirname(DEFAULT_TOKENIZER));
  root = await mkdtemp(path.join(os.tmpdir(), 'gte-transformer-'));
  model = await buildTransformerModel(path.join(root, 'a'), { size: TINY });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function embedAll(modelDir: string): Promise<Float32Array[]> {
  const embedder = await createEmbedder({ modelDir, device: 'cpu' });
  try {
    return await embedder.embed(TEXTS);
  } finally {
    await embedder.close();
  }
}

describe('transformer-shaped model', () => {
  it('is laid out like a Hugging Face export and read as one', async () => {
    const cfg = await loadModelConfig(model.dir);
    expect(cfg).toMatchObject({ dimension: 64, pooling: 'mean', maxLength: 512, id: model.id });
    const hf = JSON.parse(await readFile(path.join(model.dir, 'config.json'), 'utf8'));
    expect(hf).toMatchObject({ model_type: 'bert', num_hidden_layers: 2, num_attention_heads: 4 });
    const session = await ort.InferenceSession.create(path.join(model.dir, 'model.onnx'));
    expect([...session.inputNames].sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(session.outputNames).toEqual(['last_hidden_state']);
    await session.release();
  });

  it('embeds through the real embedder: unit vectors of the hidden size, padding not counted', async () => {
    const vectors = await embedAll(model.dir);
    expect(vectors).toHaveLength(TEXTS.length);
    for (const v of vectors) {
      expect(v).toHaveLength(64);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    // Different texts, different vectors; a text alone equals the same text padded in a batch.
    expect(vectors[0]).not.toEqual(vectors[1]);
    const embedder = await createEmbedder({ modelDir: model.dir, device: 'cpu' });
    try {
      const [alone] = await embedder.embed([TEXTS[2]!]);
      for (let d = 0; d < 64; d++) expect(alone![d]).toBeCloseTo(vectors[2]![d]!, 4);
    } finally {
      await embedder.close();
    }
  });

  it('is deterministic: a second build gives the same bytes and the same vectors', async () => {
    const again = await buildTransformerModel(path.join(root, 'b'), { size: TINY });
    expect(again.checksum).toBe(model.checksum);
    expect(await embedAll(again.dir)).toEqual(await embedAll(model.dir));
  });

  it('rebuilds nothing when the same model is already there', async () => {
    const before = (await stat(path.join(model.dir, 'model.onnx'))).mtimeMs;
    const same = await buildTransformerModel(model.dir, { size: TINY });
    expect(same.checksum).toBe(model.checksum);
    expect((await stat(path.join(model.dir, 'model.onnx'))).mtimeMs).toBe(before);
  });
});
