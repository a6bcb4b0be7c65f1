import { describe, expect, it } from 'vitest';
import { HedgeBudget, HedgePolicy, LatencyWindow, MIN_SAMPLES } from '../../edge/hedge.ts';

const config = { floorMs: 40, capMs: 250, budgetPercent: 10, burst: 10 };

describe('hedge policy', () => {
  it('takes the p95 of the recent window, forgetting the oldest samples', () => {
    const w = new LatencyWindow(100);
    expect(w.quantile(0.95)).toBeNull();
    for (let i = 1; i <= 100; i++) w.record(i);
    expect(w.quantile(0.95)).toBe(95);
    for (let i = 0; i < 100; i++) w.record(1000);
    expect(w.quantile(0.95)).toBe(1000);
    w.record(Number.NaN);
    expect(w.count).toBe(100);
  });

  it('waits the cap until enough latencies are known, then about the p95, within floor and cap', () => {
    const p = new HedgePolicy(config);
    expect(p.delayMs('search')).toBe(250);
    for (let i = 0; i < MIN_SAMPLES - 1; i++) p.recordGood('search', 100);
    expect(p.delayMs('search')).toBe(250);
    p.recordGood('search', 100);
    expect(p.delayMs('search')).toBe(100);
    // per read kind
    expect(p.delayMs('document')).toBe(250);
    for (let i = 0; i < 200; i++) p.recordGood('search', 2);
    expect(p.delayMs('search')).toBe(40); // the floor
    for (let i = 0; i < 200; i++) p.recordGood('search', 5000);
    expect(p.delayMs('search')).toBe(250); // the cap
  });

  it('the budget allows about budgetPercent hedges in the long run, after an initial burst', () => {
    const p = new HedgePolicy(config);
    let hedges = 0;
    for (let i = 0; i < 1000; i++) {
      p.onRead();
      if (p.allowHedge()) hedges++; // every read wants a hedge: an overloaded cluster
    }
    expect(hedges).toBeGreaterThanOrEqual(100);
    expect(hedges).toBeLessThanOrEqual(100 + config.burst);
    expect(p.counts).toMatchObject({ reads: 1000, hedged: hedges, refused: 1000 - hedges });
  });

  it('a read asking again after a refusal stays within the budget and counts as refused once', () => {
    const p = new HedgePolicy(config);
    let hedges = 0;
    for (let i = 0; i < 1000; i++) {
      p.onRead();
      // Each read asks up to three times (it asks again while its first attempt runs).
      if (p.allowHedge() || p.allowHedge(true) || p.allowHedge(true)) hedges++;
    }
    expect(hedges).toBeLessThanOrEqual(100 + config.burst);
    expect(p.counts).toMatchObject({ reads: 1000, hedged: hedges, refused: 1000 - hedges });
  });

  it('a quiet spell refills the bucket up to the burst, never beyond', () => {
    const b = new HedgeBudget({ budgetPercent: 10, burst: 3 });
    for (let i = 0; i < 1000; i++) b.onRead();
    expect(b.available).toBe(3);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    const none = new HedgeBudget({ budgetPercent: 0, burst: 0 });
    none.onRead();
    expect(none.take()).toBe(false);
  });
});
