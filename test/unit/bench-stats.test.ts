import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatMs,
  formatRatio,
  goalVerdict,
  markdownTable,
  mean,
  percentile,
  perSecond,
  ratio,
  summarize,
} from '../../scripts/bench/stats.ts';

describe('percentile', () => {
  it('interpolates between the closest ranks (numpy linear)', () => {
    const v = [1, 2, 3, 4];
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 100)).toBe(4);
    expect(percentile(v, 50)).toBe(2.5);
    expect(percentile(v, 25)).toBeCloseTo(1.75);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 99)).toBeCloseTo(99.1);
  });

  it('does not need sorted input and leaves it alone', () => {
    const v = [5, 1, 4, 2, 3];
    expect(percentile(v, 50)).toBe(3);
    expect(v).toEqual([5, 1, 4, 2, 3]);
  });

  it('gives the value itself for one sample and NaN for none', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('refuses p outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(/0\.\.100/);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('counts, averages and ranks', () => {
    const s = summarize([12, 15, 11, 40]);
    expect(s).toMatchObject({ n: 4, mean: 19.5, min: 11, max: 40, p50: 13.5 });
    expect(s.p99).toBeCloseTo(39.25);
    expect(s.p90).toBeCloseTo(32.5);
  });

  it('is NaN but for n when empty', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.mean).toBeNaN();
  });

  it('handles large inputs without spreading them onto the stack', () => {
    const v = Array.from({ length: 300_000 }, (_, i) => i);
    expect(summarize(v).max).toBe(299_999);
  });
});

describe('ratios and rates', () => {
  it('divides, and is NaN for a zero or missing denominator', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
    expect(mean([1, 2, 3])).toBe(2);
    expect(mean([])).toBeNaN();
    expect(perSecond(500, 250)).toBe(2000);
    expect(perSecond(1, 0)).toBeNaN();
  });

  it('formats ratios with a multiplication sign, and a dash for nothing', () => {
    expect(formatRatio(1.0749)).toBe('1.07×');
    expect(formatRatio(2, 1)).toBe('2.0×');
    expect(formatRatio(Number.NaN)).toBe('–');
    expect(formatRatio(Number.POSITIVE_INFINITY)).toBe('–');
  });

  it('formats milliseconds with precision that suits the size', () => {
    expect(formatMs(0.4242)).toBe('0.42');
    expect(formatMs(12.345)).toBe('12.3');
    expect(formatMs(1234.5)).toBe('1235');
    expect(formatMs(Number.NaN)).toBe('–');
    expect(formatCount(12345.6)).toBe('12,346');
    expect(formatCount(Number.NaN)).toBe('–');
  });

  it('states a goal as met or not, with the numbers', () => {
    expect(goalVerdict(true, '9.1 ms', '< 15 ms')).toBe('**met** (9.1 ms; goal < 15 ms)');
    expect(goalVerdict(false, '0.8×', '≥ 2×')).toContain('NOT met');
  });
});

describe('markdownTable', () => {
  it('right-aligns numeric columns, left-aligns text, escapes pipes', () => {
    const t = markdownTable(
      ['name', 'p50 ms', 'ratio'],
      [
        ['direct', 1.5, '1.00×'],
        ['a|b', '12.3', '–'],
      ],
    );
    expect(t.split('\n')).toEqual([
      '| name | p50 ms | ratio |',
      '| --- | ---: | ---: |',
      '| direct | 1.5 | 1.00× |',
      '| a\\|b | 12.3 | – |',
    ]);
  });

  it('treats thousands separators as numbers and prints a header alone for no rows', () => {
    expect(markdownTable(['docs'], [['12,345']]).split('\n')[1]).toBe('| ---: |');
    expect(markdownTable(['a', 'b'], [])).toBe('| a | b |\n| --- | --- |');
  });
});
