/**
 * Keyword query expansion (keyword/expansion.ts, keyword/word-table.ts): neighbours come from the
 * model's own word table, above a similarity floor, never inflections of the query's words (the
 * stemmer meets those) nor the table's most common words; and the demo model's table, read from
 * its ONNX file, finds real synonyms.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueryExpander } from '../../worker-node/keyword/expansion.ts';
import { loadWordTable, wordTable } from '../../worker-node/keyword/word-table.ts';

// Rows: [PAD], then "the" (common), then words in 2-d; "taxis" is an inflection of "taxi".
const vocab = ['[PAD]', 'the', 'taxi', 'cab', 'taxis', 'minibus', 'receipt', 'x1'];
const rows = new Float32Array(
  [
    [0, 0],
    [1, 1],
    [1, 0],
    [0.95, 0.1],
    [1, 0.01],
    [0.8, 0.6],
    [0, 1],
    [1, 0],
  ].flat(),
);
const settings = { perWord: 2, minSimilarity: 0.7, skipFirst: 1, weight: 0.4 };

describe('query expansion', () => {
  it('keeps plain words with a length, each at unit length', () => {
    const table = wordTable(vocab, rows, 2);
    expect(table.words).toEqual(['the', 'taxi', 'cab', 'taxis', 'minibus', 'receipt']);
    const [x, y] = table.vectors.subarray(2 * 2, 2 * 2 + 2);
    expect(x! ** 2 + y! ** 2).toBeCloseTo(1, 6);
  });

  it('takes the nearest words above the floor, skipping inflections and common words', () => {
    const expander = new QueryExpander(wordTable(vocab, rows, 2), settings);
    expect(expander.neighbours('taxi')).toEqual(['cab', 'minibus']);
    expect(expander.neighbours('receipt')).toEqual([]);
    expect(expander.neighbours('the')).toEqual([]);
    expect(expander.neighbours('unknown')).toEqual([]);
    expect(expander.expand(['taxi', 'receipt'])).toEqual({ terms: ['cab', 'minibus'], weight: 0.4 });
    // A neighbour the query already says is not added again.
    expect(expander.expand(['taxi', 'cab'])!.terms).toEqual(['minibus']);
    expect(expander.expand(['receipt'])).toBeNull();
  });

  it("reads the demo model's word table and finds synonyms in it", async () => {
    const table = await loadWordTable(join(import.meta.dirname, '../../.gte/models/glove-100d-demo'));
    expect(table).not.toBeNull();
    expect(table!.dimension).toBe(100);
    const expander = new QueryExpander(table!);
    expect(expander.neighbours('taxi')).toContain('cab');
    expect(expander.neighbours('telephone')).toContain('phone');
  });

  it('has no table for a directory without a model', async () => {
    expect(await loadWordTable(join(import.meta.dirname, 'no-such-model'))).toBeNull();
  });
});
