/**
 * The passage splitter (worker-node/embedder/passages.ts) with a simple token counter: a word or a
 * CJK character is a token. The real tokenizer's agreement is checked in the integration tier.
 */
import { describe, expect, it } from 'vitest';
import { type PassageSpan, splitPassages } from '../../worker-node/embedder/passages.ts';

const countTokens = (text: string) => (text.match(/[\u3400-\u9fff]|[^\s\u3400-\u9fff]+/g) ?? []).length;

function englishDocument(sentences: number): string {
  const paragraphs: string[] = [];
  for (let p = 0; p < sentences; p += 7) {
    const body: string[] = [];
    for (let s = p; s < Math.min(p + 7, sentences); s++)
      body.push(`Sentence ${s} of the travel policy says taxis are reimbursed in city ${s}.`);
    paragraphs.push(body.join(' '));
  }
  return paragraphs.join('\n\n');
}

/** Every character covered, in order, each passage within the budget. */
function expectWellFormed(text: string, spans: PassageSpan[], maxTokens: number): void {
  expect(spans[0]!.start).toBe(0);
  expect(spans.at(-1)!.end).toBe(text.length);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    expect(s.end).toBeGreaterThan(s.start);
    expect(countTokens(text.slice(s.start, s.end))).toBeLessThanOrEqual(maxTokens);
    if (i > 0) {
      expect(s.start).toBeGreaterThan(spans[i - 1]!.start);
      expect(s.start).toBeLessThanOrEqual(spans[i - 1]!.end);
      expect(s.end).toBeGreaterThan(spans[i - 1]!.end);
    }
  }
}

describe('splitPassages', () => {
  it('keeps a document that fits as one passage over the whole text', () => {
    const text = 'Taxis are reimbursable for airport transfers.';
    expect(splitPassages(text, { maxTokens: 64, overlapTokens: 8, countTokens })).toEqual([
      { start: 0, end: text.length },
    ]);
  });

  it('cuts a long English document at sentence ends, within the budget, with overlap', () => {
    const text = englishDocument(120);
    const spans = splitPassages(text, { maxTokens: 60, overlapTokens: 15, countTokens });
    expect(spans.length).toBeGreaterThan(10);
    expectWellFormed(text, spans, 60);
    for (const s of spans.slice(1)) expect(text.slice(0, s.start)).toMatch(/[.]\s+$/);
    for (const s of spans.slice(0, -1)) expect(text.slice(0, s.end)).toMatch(/[.]\s+$/);
    // A sentence is 13 tokens: the overlap repeats exactly the last sentence of the passage before.
    for (let i = 1; i < spans.length; i++) {
      const shared = text.slice(spans[i]!.start, spans[i - 1]!.end);
      expect(countTokens(shared)).toBe(13);
    }
  });

  it('without overlap, passages follow each other exactly', () => {
    const text = englishDocument(80);
    const spans = splitPassages(text, { maxTokens: 50, overlapTokens: 0, countTokens });
    expectWellFormed(text, spans, 50);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBe(spans[i - 1]!.end);
  });

  it('cuts Chinese after 。！？ and, with no punctuation, between characters', () => {
    const sentence = '出租车费用在机场接送时可以报销。';
    const text = sentence.repeat(30);
    const spans = splitPassages(text, { maxTokens: 40, overlapTokens: 0, countTokens });
    expectWellFormed(text, spans, 40);
    for (const s of spans) expect(s.end % sentence.length).toBe(0);
    const unbroken = '出租车费用可以报销'.repeat(20);
    const cut = splitPassages(unbroken, { maxTokens: 25, overlapTokens: 5, countTokens });
    expectWellFormed(unbroken, cut, 25);
    // Cut between characters, in pieces of at least 8 (one tokenizer call each), so nearly full.
    expect(cut[0]!.end).toBeGreaterThan(25 - 8);
  });

  it('cuts inside a word longer than a passage, never inside a surrogate pair', () => {
    const perChar = (t: string) => [...t].length;
    const text = `${'😀'.repeat(50)} tail`;
    const spans = splitPassages(text, { maxTokens: 16, overlapTokens: 0, countTokens: perChar });
    expect(spans[0]!.start).toBe(0);
    expect(spans.at(-1)!.end).toBe(text.length);
    for (const s of spans) {
      expect(perChar(text.slice(s.start, s.end))).toBeLessThanOrEqual(16);
      expect(text.slice(s.start, s.end)).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
  });

  it('checks a joined passage against the counter: a text counting more than its parts is cut earlier', () => {
    // This counter charges 5 extra tokens for a text that spans a paragraph break.
    const joinedCostsMore = (t: string) => countTokens(t) + (/\n\n\S/.test(t) ? 5 : 0);
    const text = ['one two three four', 'five six seven eight', 'nine ten eleven twelve'].join('\n\n');
    const spans = splitPassages(text, { maxTokens: 10, overlapTokens: 0, countTokens: joinedCostsMore });
    for (const s of spans) expect(joinedCostsMore(text.slice(s.start, s.end))).toBeLessThanOrEqual(10);
    expect(spans).toHaveLength(3);
  });

  it('is deterministic and refuses an overlap over half the budget', () => {
    const text = englishDocument(50);
    const opts = { maxTokens: 40, overlapTokens: 10, countTokens };
    expect(splitPassages(text, opts)).toEqual(splitPassages(text, opts));
    expect(() => splitPassages(text, { ...opts, overlapTokens: 21 })).toThrow(/overlapTokens/);
    expect(() => splitPassages(text, { ...opts, maxTokens: 0 })).toThrow(/maxTokens/);
  });
});
