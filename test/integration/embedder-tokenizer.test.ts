/** Tokenization as the session worker does it: truncation keeps [SEP], long texts are clipped first. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../scripts/setup/build-demo-model.ts';
import { clipText, loadTokenizer, type TextTokenizer } from '../../worker-node/embedder/tokenizer.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL_DIR = path.join(ROOT, '.gte', 'models', 'glove-100d-demo');
const CLS = 2;
const SEP = 3;

let tokenizer: TextTokenizer;

beforeAll(async () => {
  const model = await buildDemoModel(MODEL_DIR);
  tokenizer = await loadTokenizer(path.join(model.dir, 'tokenizer.json'), 16);
});

describe('loadTokenizer', () => {
  it('adds [CLS] and [SEP] and keeps [SEP] when it truncates', () => {
    const short = tokenizer.encode('restart the server');
    expect(short[0]).toBe(CLS);
    expect(short.at(-1)).toBe(SEP);
    const long = tokenizer.encode('restart the server '.repeat(50));
    expect(long).toHaveLength(16);
    expect(long[0]).toBe(CLS);
    expect(long.at(-1)).toBe(SEP);
    expect(long.slice(1, 4)).toEqual(short.slice(1, 4));
  });

  it('uses [PAD] as the padding id', () => {
    expect(tokenizer.padId).toBe(0);
  });
});

describe('clipText', () => {
  it('keeps texts that fit and never splits a surrogate pair', () => {
    expect(clipText('short', 16)).toBe('short');
    const emoji = `${'a'.repeat(16 * 16 - 1)}😀tail`;
    const clipped = clipText(emoji, 16);
    expect(clipped).toBe('a'.repeat(16 * 16 - 1));
  });
});
