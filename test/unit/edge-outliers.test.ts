import { describe, expect, it } from 'vitest';
import { OUTLIER, OutlierDetector } from '../../edge/outliers.ts';

const all = ['a', 'b', 'c', 'd'];

describe('outlier ejection', () => {
  it('ejects after consecutive errors, for a back-off that doubles on repeat', () => {
    const d = new OutlierDetector();
    for (let i = 0; i < OUTLIER.consecutiveErrors - 1; i++) expect(d.onError('a', all, 0)).toBe(false);
    d.onSuccess('a'); // a success in between starts the count again
    for (let i = 0; i < OUTLIER.consecutiveErrors - 1; i++) d.onError('a', all, 0);
    expect(d.onError('a', all, 0)).toBe(true);
    expect(d.ejected(0)).toEqual(new Set(['a']));
    expect(d.ejected(OUTLIER.baseEjectMs - 1)).toEqual(new Set(['a']));
    expect(d.ejected(OUTLIER.baseEjectMs)).toEqual(new Set());
    const again = OUTLIER.baseEjectMs;
    for (let i = 0; i < OUTLIER.consecutiveErrors; i++) d.onError('a', all, again);
    expect(d.ejected(again + 2 * OUTLIER.baseEjectMs - 1).has('a')).toBe(true);
    expect(d.ejected(again + 2 * OUTLIER.baseEjectMs).has('a')).toBe(false);
  });

  it('ejects a node that keeps losing hedge races (frozen: its cancelled attempts look quick)', () => {
    const d = new OutlierDetector();
    for (let i = 0; i < OUTLIER.consecutiveHedgeLosses - 1; i++)
      expect(d.onHedgeLost('a', all, 0)).toBe(false);
    d.onSuccess('a'); // an answer in between: a slow moment, not a slow node
    for (let i = 0; i < OUTLIER.consecutiveHedgeLosses - 1; i++) d.onHedgeLost('a', all, 0);
    expect(d.ejected(0).has('a')).toBe(false);
    expect(d.onHedgeLost('a', all, 0)).toBe(true);
    expect(d.ejected(OUTLIER.baseEjectMs - 1)).toEqual(new Set(['a']));
    // Errors and lost races are counted apart: one does not finish the other's count.
    const e = new OutlierDetector();
    for (let i = 0; i < OUTLIER.consecutiveHedgeLosses - 1; i++) e.onHedgeLost('b', all, 0);
    expect(e.onError('b', all, 0)).toBe(false);
  });

  it('takes back an ejected node that wins a hedge race, so the node it beat can go', () => {
    const d = new OutlierDetector({ ...OUTLIER, consecutiveErrors: 1 });
    const pair = ['a', 'b'];
    d.onError('a', pair, 0);
    expect(d.ejected(1)).toEqual(new Set(['a']));
    // b turns slow: with a out, the half cap keeps b in.
    for (let i = 0; i < OUTLIER.consecutiveHedgeLosses; i++) expect(d.onHedgeLost('b', pair, 1)).toBe(false);
    expect(d.onHedgeWon('a', 2)).toBe(true);
    expect(d.onHedgeWon('a', 2)).toBe(false); // already back
    // b's losses were still counted: its next lost race ejects it.
    expect(d.onHedgeLost('b', pair, 3)).toBe(true);
    expect(d.ejected(4)).toEqual(new Set(['b']));
  });

  it('caps the back-off at maxEjectMs', () => {
    const d = new OutlierDetector({ ...OUTLIER, consecutiveErrors: 1 });
    let now = 0;
    // Ejected again the moment each back-off ends: nothing decays.
    for (let i = 0; i < 10; i++) {
      d.onError('a', all, now);
      now += Math.min(OUTLIER.maxEjectMs, OUTLIER.baseEjectMs * 2 ** i);
    }
    d.onError('a', all, now);
    expect(d.ejected(now + OUTLIER.maxEjectMs - 1).has('a')).toBe(true);
    expect(d.ejected(now + OUTLIER.maxEjectMs).has('a')).toBe(false);
  });

  it('lets the back-off decay while the node stays in routing', () => {
    const d = new OutlierDetector({ ...OUTLIER, consecutiveErrors: 1 });
    const base = OUTLIER.baseEjectMs;
    d.onError('a', all, 0); // out for base
    d.onError('a', all, base); // at once again: 2 × base
    d.onError('a', all, 3 * base); // at once again: 4 × base, until 7 × base
    // Two base periods back in routing: the next back-off is two steps shorter (2 × base, not 8).
    d.onError('a', all, 9 * base);
    expect(d.ejected(11 * base - 1).has('a')).toBe(true);
    expect(d.ejected(11 * base).has('a')).toBe(false);
  });

  it('ejects a node far slower than its peers, not one a little slower', () => {
    const d = new OutlierDetector();
    const ms = new Map<string, number | null>([
      ['a', 1000],
      ['b', 20],
      ['c', 25],
      ['d', null],
    ]);
    expect(d.checkLatencies(ms, 0)).toEqual(['a']);
    const mild = new OutlierDetector();
    expect(
      mild.checkLatencies(
        new Map([
          ['a', 60],
          ['b', 20],
        ]),
        0,
      ),
    ).toEqual([]); // 3× slower but under minSlowMs: noise on a fast cluster
  });

  it('never ejects more than half the nodes', () => {
    const d = new OutlierDetector({ ...OUTLIER, consecutiveErrors: 1 });
    for (const id of all) d.onError(id, all, 0);
    expect(d.ejected(0).size).toBe(2);
    const two = new OutlierDetector({ ...OUTLIER, consecutiveErrors: 1 });
    two.onError('a', ['a', 'b'], 0);
    two.onError('b', ['a', 'b'], 0);
    expect(two.ejected(0)).toEqual(new Set(['a']));
    // A single node is never ejected: there is nowhere else to go.
    const one = new OutlierDetector({ ...OUTLIER, consecutiveErrors: 1 });
    expect(one.onError('a', ['a'], 0)).toBe(false);
    // Two far slower than the rest: both leave (half of four), the fast two stay.
    const slow = new OutlierDetector();
    const latencies = (entries: [string, number][]) => new Map<string, number | null>(entries);
    expect(
      slow.checkLatencies(
        latencies([
          ['a', 3000],
          ['b', 2900],
          ['c', 10],
          ['d', 12],
        ]),
        0,
      ),
    ).toEqual(['a', 'b']);
    // All alike slow: nobody is an outlier.
    const alike = new OutlierDetector();
    expect(
      alike.checkLatencies(
        latencies([
          ['a', 3000],
          ['b', 2900],
          ['c', 2950],
        ]),
        0,
      ),
    ).toEqual([]);
  });
});
