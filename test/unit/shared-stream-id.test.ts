import { describe, expect, it } from 'vitest';
import { compareSeq, isStreamId, parseStreamId, SEQ_ZERO, seqTimeMs } from '../../shared/stream-id.ts';

const MAX = '18446744073709551615'; // 2^64 - 1

describe('stream ids', () => {
  it('compares stream ids numerically', () => {
    expect(compareSeq('9-0', '10-0')).toBe(-1);
    expect(compareSeq('10-2', '10-10')).toBe(-1);
    expect(compareSeq('10-0', '10-0')).toBe(0);
    expect(compareSeq('garbage', '0-0')).toBe(-1);
  });

  it('orders by milliseconds, then by sequence', () => {
    expect(compareSeq('2-0', '1-99')).toBe(1);
    expect(compareSeq('1-99', '2-0')).toBe(-1);
    expect(compareSeq('1-1', '1-0')).toBe(1);
    expect(compareSeq(SEQ_ZERO, '0-1')).toBe(-1);
  });

  it('keeps ids past 2^53 apart (a number would make them equal)', () => {
    // 2^53 and 2^53 + 1 are the same JavaScript number.
    expect(compareSeq('9007199254740993-0', '9007199254740992-0')).toBe(1);
    expect(compareSeq('5-9007199254740993', '5-9007199254740992')).toBe(1);
    expect(compareSeq(`${MAX}-${MAX}`, `${MAX}-18446744073709551614`)).toBe(1);
    expect(compareSeq(`${MAX}-0`, `${MAX}-0`)).toBe(0);
    expect(parseStreamId(`${MAX}-${MAX}`)).toEqual({ ms: 2n ** 64n - 1n, seq: 2n ** 64n - 1n });
  });

  it('orders malformed ids before every valid id, and equal to each other', () => {
    const malformed = ['', '5', '1-', '-1', '1-x', '-1-0', '1-2-3', ' 1-2', '1.5-0', `${MAX}0-0`];
    for (const bad of malformed) {
      expect(isStreamId(bad)).toBe(false);
      expect(parseStreamId(bad)).toBeNull();
      expect(compareSeq(bad, SEQ_ZERO)).toBe(-1);
      expect(compareSeq(SEQ_ZERO, bad)).toBe(1);
      expect(compareSeq(bad, 'garbage')).toBe(0);
    }
    // 2^64 is one past the largest part: malformed, not wrapped or rounded.
    expect(isStreamId('18446744073709551616-0')).toBe(false);
    expect(isStreamId(`0-${MAX}`)).toBe(true);
  });

  it('sorts a mixed list into one stable order', () => {
    const sorted = ['10-0', 'bad', '9-5', '9007199254740993-0', '0-0', '9-10'].sort(compareSeq);
    expect(sorted).toEqual(['bad', '0-0', '9-5', '9-10', '10-0', '9007199254740993-0']);
  });

  it('takes the append time from the id; a malformed id has none', () => {
    expect(seqTimeMs('1700000000000-3')).toBe(1_700_000_000_000);
    expect(seqTimeMs(SEQ_ZERO)).toBe(0);
    expect(seqTimeMs('garbage')).toBeNaN();
  });
});
