/**
 * Model folder detection: GTE-Pro's own manifest, and a Hugging Face sentence-transformers layout
 * (config.json + 1_Pooling/config.json + onnx/model.onnx), built here from the demo model's files.
 */
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel, type DemoModel } from '../../scripts/setup/build-demo-model.ts';
import { createEmbedder } from '../../worker-node/embedder/index.ts';
import { loadModelConfig } from '../../worker-node/embedder/model-config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL_DIR = path.join(ROOT, '.gte', 'models', 'glove-100d-demo');

let demo: DemoModel;
let hfDir: string;

beforeAll(async () => {
  demo = await buildDemoModel(MODEL_DIR);
  hfDir = await mkdtemp(path.join(os.tmpdir(), 'gte-hf-'));
  await mkdir(path.join(hfDir, 'onnx'));
  await mkdir(path.join(hfDir, '1_Pooling'));
  await symlink(path.join(demo.dir, 'model.onnx'), path.join(hfDir, 'onnx', 'model.onnx'));
  await copyFile(path.join(demo.dir, 'tokenizer.json'), path.join(hfDir, 'tokenizer.json'));
  await writeFile(
    path.join(hfDir, 'config.json'),
    JSON.stringify({ _name_or_path: 'acme/bge-demo', hidden_size: 100, max_position_embeddings: 128 }),
  );
  await writeFile(
    path.join(hfDir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: 100,
      pooling_mode_cls_token: true,
      pooling_mode_mean_tokens: false,
    }),
  );
});

afterAll(async () => {
  await rm(hfDir, { recursive: true, force: true });
});

describe('loadModelConfig', () => {
  it('reads the demo model manifest and checks the ONNX checksum', async () => {
    const config = await loadModelConfig(MODEL_DIR);
    expect(config).toMatchObject({
      id: 'gte-pro/glove-100d-demo',
      dimension: 100,
      pooling: 'mean',
      maxLength: 256,
      checksum: demo.checksum,
    });
  });

  it('detects a Hugging Face layout: CLS pooling, hidden_size, onnx/model.onnx, id from _name_or_path', async () => {
    const config = await loadModelConfig(hfDir);
    expect(config).toMatchObject({
      id: 'acme/bge-demo',
      dimension: 100,
      pooling: 'cls',
      maxLength: 128,
      checksum: demo.checksum,
    });
    expect(config.onnxPath).toBe(path.join(hfDir, 'onnx', 'model.onnx'));
  });

  it('embeds through a Hugging Face layout with CLS pooling', async () => {
    const embedder = await createEmbedder({ modelDir: hfDir, device: 'cpu' });
    try {
      expect(embedder.info).toMatchObject({ id: 'acme/bge-demo', pooling: 'cls', dimension: 100 });
      // The demo's [CLS] row is zero, so CLS pooling yields a zero vector: proof that CLS, not mean, was used.
      const [v] = await embedder.embed(['restart the server']);
      expect(v!.every((x) => x === 0)).toBe(true);
    } finally {
      await embedder.close();
    }
  });

  it('rejects createEmbedder with the ONNX Runtime error when model.onnx is corrupt', async () => {
    const broken = await mkdtemp(path.join(os.tmpdir(), 'gte-broken-'));
    try {
      await copyFile(path.join(hfDir, 'config.json'), path.join(broken, 'config.json'));
      await copyFile(path.join(demo.dir, 'tokenizer.json'), path.join(broken, 'tokenizer.json'));
      await writeFile(path.join(broken, 'model.onnx'), 'not a protobuf');
      await expect(createEmbedder({ modelDir: broken, device: 'cpu' })).rejects.toThrow(
        /embedding model failed to load/,
      );
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('says how to fix a folder without a model', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'gte-empty-'));
    try {
      await expect(loadModelConfig(empty)).rejects.toThrow(/npm run build-model/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
