/** Tokenization as the session worker does it: truncation keeps [SEP], long texts are clipped first. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../scripts/setup/build-demo-model.ts';
import { splitPassages } from '../../worker-node/embedder/passages.ts';
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

describe('passages cut with the real tokenizer', () => {
  it('each fits the window with [CLS] and [SEP], and together they cover the text', () => {
    const text = [
      'Taxis and ride-hailing are reimbursable for airport transfers; keep the receipt (PAY-7782).',
      '出租车和网约车费用在机场接送时可以报销，请保留收据。超过五百元需要主管批准！',
      'A very long identifier follows: KB0012345-db-prod-07-'.repeat(3),
    ]
      .join('\n\n')
      .repeat(6);
    const maxTokens = 16 - tokenizer.specialTokens; // loaded with a window of 16
    const spans = splitPassages(text, { maxTokens, overlapTokens: 6, countTokens: tokenizer.count });
    expect(tokenizer.specialTokens).toBe(2);
    expect(spans.length).toBeGreaterThan(10);
    expect(spans[0]!.start).toBe(0);
    expect(spans.at(-1)!.end).toBe(text.length);
    for (const [i, s] of spans.entries()) {
      const passage = text.slice(s.start, s.end);
      expect(tokenizer.count(passage)).toBeLessThanOrEqual(maxTokens);
      // Nothing is cut off when the passage is embedded: the encoding ends with its own [SEP].
      expect(tokenizer.encode(passage).length).toBe(tokenizer.count(passage) + 2);
      if (i > 0) expect(s.start).toBeLessThanOrEqual(spans[i - 1]!.end);
    }
  });
});
