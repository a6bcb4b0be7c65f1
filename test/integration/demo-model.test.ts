/**
 * The offline demo model (scripts/setup/build-demo-model.ts): BERT-export interface, determinism,
 * idempotence, and a tokenizer that @huggingface/tokenizers loads and that splits CJK per character.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel, type DemoModel } from '../../scripts/setup/build-demo-model.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL_DIR = path.join(ROOT, '.gte', 'models', 'glove-100d-demo');

let model: DemoModel;
const tempDirs: string[] = [];

// The first build parses ~300 MB of GloVe JSON (about 10 s); later runs find it and return.
beforeAll(async () => {
  model = await buildDemoModel(MODEL_DIR);
});

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('demo model', () => {
  it('has the inputs and output of a Hugging Face BERT export', async () => {
    const session = await ort.InferenceSession.create(path.join(model.dir, 'model.onnx'));
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(session.outputNames).toEqual(['last_hidden_state']);
    for (const input of session.inputMetadata) {
      expect(input).toMatchObject({ isTensor: true, type: 'int64', shape: ['batch', 'seq'] });
    }
    expect(session.outputMetadata[0]).toMatchObject({
      isTensor: true,
      type: 'float32',
      shape: ['batch', 'seq', 100],
    });

    const ids = new ort.Tensor('int64', BigInt64Array.from([2n, 500n, 3n, 0n]), [1, 4]);
    const mask = new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 0n]), [1, 4]);
    const types = new ort.Tensor('int64', new BigInt64Array(4), [1, 4]);
    const out = (await session.run({ input_ids: ids, attention_mask: mask, token_type_ids: types }))
      .last_hidden_state!;
    expect(out.dims).toEqual([1, 4, 100]);
    const data = out.data as Float32Array;
    expect(data.subarray(100, 200).some((x) => x !== 0)).toBe(true); // a real word
    expect(data.subarray(300, 400).every((x) => x === 0)).toBe(true); // padding is masked to zero
    await session.release();
  });

  it('stores the table as little-endian raw_data under opset 13 and writes a complete manifest', async () => {
    const bytes = await readFile(path.join(model.dir, 'model.onnx'));
    const decoded = onnxProto.onnx.ModelProto.decode(bytes);
    expect(Number(decoded.opsetImport[0]?.version)).toBe(13);
    expect(Number(decoded.irVersion)).toBe(8);
    const table = decoded.graph!.initializer!.find((t) => t.name === 'word_embeddings')!;
    expect(table.rawData!.length).toBe(Number(table.dims![0]) * 100 * 4);

    const manifest = JSON.parse(await readFile(path.join(model.dir, 'gte-pro-model.json'), 'utf8'));
    expect(manifest).toMatchObject({
      id: 'gte-pro/glove-100d-demo',
      dimension: 100,
      pooling: 'mean',
      max_length: 256,
      normalize: true,
    });
    expect(manifest.checksum).toBe(model.checksum);
    expect(manifest.vocab_size).toBe(Number(table.dims![0]));
    expect(manifest.vocab_size).toBeGreaterThan(50_000 + 20_000);
  });

  it('ships a WordPiece tokenizer that splits CJK text into characters', async () => {
    const spec = JSON.parse(await readFile(path.join(model.dir, 'tokenizer.json'), 'utf8'));
    const tokenizer = new Tokenizer(spec, {});
    expect(tokenizer.encode('服务器重启').tokens).toEqual(['[CLS]', '服', '务', '器', '重', '启', '[SEP]']);
    expect(tokenizer.encode('Restart the GPU server').tokens).toEqual([
      '[CLS]',
      'restart',
      'the',
      'gpu',
      'server',
      '[SEP]',
    ]);
    expect(tokenizer.encode('zzqxj').tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
  });

  it('returns an existing build at once', async () => {
    const started = performance.now();
    const again = await buildDemoModel(MODEL_DIR);
    expect(performance.now() - started).toBeLessThan(500);
    expect(again).toEqual(model);
  });

  // Two full builds from scratch: about 20 s on two cores.
  it('is deterministic: two builds from scratch are byte-identical', async () => {
    const a = await mkdtemp(path.join(os.tmpdir(), 'gte-demo-a-'));
    const b = await mkdtemp(path.join(os.tmpdir(), 'gte-demo-b-'));
    tempDirs.push(a, b);
    const first = await buildDemoModel(path.join(a, 'model'));
    const second = await buildDemoModel(path.join(b, 'model'));
    expect(first.checksum).toBe(second.checksum);
    expect(first.checksum).toBe(model.checksum);
    for (const file of ['tokenizer.json', 'gte-pro-model.json']) {
      expect(
        (await readFile(path.join(first.dir, file))).equals(await readFile(path.join(second.dir, file))),
      ).toBe(true);
    }
  }, 120_000);
});
