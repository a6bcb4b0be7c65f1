/** Pooling, normalisation, length packing and the token estimate: pure functions, no model. */
import { describe, expect, it } from 'vitest';
import { packByLength } from '../../worker-node/embedder/batcher.ts';
import { l2Normalize, pool } from '../../worker-node/embedder/pooling.ts';
import { estimateTokens } from '../../worker-node/embedder/tokenizer.ts';

// batch 2, seq 3, dim 2; row 1 has one padded position holding garbage that must be ignored.
const hidden = Float32Array.from([1, 2, 3, 4, 5, 6, /* row 1 */ 10, 0, 20, 0, 999, 999]);
const mask = [1, 1, 1, 1, 1, 0];

describe('pooling', () => {
  it('mean-pools only positions the mask marks as real', () => {
    const [a, b] = pool({ hidden, mask, batch: 2, seq: 3, dim: 2 }, 'mean');
    expect(Array.from(a!)).toEqual([3, 4]);
    expect(Array.from(b!)).toEqual([15, 0]);
  });

  it('accepts an int64 mask as ONNX Runtime tensors hold it', () => {
    const [, b] = pool(
      { hidden, mask: BigInt64Array.from(mask.map(BigInt)), batch: 2, seq: 3, dim: 2 },
      'mean',
    );
    expect(Array.from(b!)).toEqual([15, 0]);
  });

  it('CLS pooling picks position 0 of each row', () => {
    const [a, b] = pool({ hidden, mask, batch: 2, seq: 3, dim: 2 }, 'cls');
    expect(Array.from(a!)).toEqual([1, 2]);
    expect(Array.from(b!)).toEqual([10, 0]);
  });

  it('refuses a buffer whose size does not match the shape', () => {
    expect(() => pool({ hidden, mask, batch: 2, seq: 3, dim: 3 }, 'mean')).toThrow(
      /expected batch 2 × seq 3 × dim 3/,
    );
  });

  it('normalises to unit length and leaves a zero vector at zero', () => {
    expect(Array.from(l2Normalize(Float32Array.from([3, 4])))).toEqual([
      0.6000000238418579, 0.800000011920929,
    ]);
    expect(Array.from(l2Normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});

describe('packByLength', () => {
  it('sorts by length and keeps each run under the padded token budget', () => {
    expect(packByLength([5, 300, 7], 600)).toEqual([[0, 2], [1]]);
    const lengths = [10, 200, 12, 11, 180, 9, 256, 13];
    const runs = packByLength(lengths, 512);
    expect(runs.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const run of runs)
      expect(run.length * Math.max(...run.map((i) => lengths[i]!))).toBeLessThanOrEqual(512);
  });

  it('gives a text longer than the budget a run of its own', () => {
    expect(packByLength([600, 4], 512)).toEqual([[1], [0]]);
  });
});

describe('estimateTokens', () => {
  it('counts CJK characters, words and punctuation, plus [CLS] and [SEP]', () => {
    expect(estimateTokens('服务器重启', 256)).toBe(7);
    expect(estimateTokens('restart the server.', 256)).toBe(2 + 1 + Math.ceil(3 * 1.3));
    expect(estimateTokens('word '.repeat(10_000), 256)).toBe(256);
  });
});
