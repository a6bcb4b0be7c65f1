/** The micro-batcher with a fake runner: coalescing, budget, backpressure, abort, close. */
import { describe, expect, it } from 'vitest';
import { MicroBatcher, type BatcherOptions } from '../../worker-node/embedder/batcher.ts';
import { EmbedderUnavailableError, QueueFullError } from '../../worker-node/embedder/errors.ts';

function makeBatcher(overrides: Partial<BatcherOptions<string>> = {}) {
  const dispatches: string[][] = [];
  const run = overrides.run ?? (async (texts: string[]) => texts.map((t) => t.toUpperCase()));
  const batcher = new MicroBatcher<string>({
    maxBatchTokens: 100,
    maxBatchWaitMs: 5,
    maxQueue: 10,
    batching: true,
    estimateTokens: (text) => text.length,
    ...overrides,
    run: (texts) => {
      dispatches.push(texts);
      return run(texts);
    },
  });
  return { batcher, dispatches };
}

/** A runner that holds each dispatch until the test lets it go. */
function gatedRunner() {
  const gates: Array<() => void> = [];
  return {
    run: (texts: string[]) =>
      new Promise<string[]>((resolve) => gates.push(() => resolve(texts.map((t) => t.toUpperCase())))),
    open: () => gates.shift()?.(),
  };
}

describe('MicroBatcher', () => {
  it('coalesces calls made within the wait into one dispatch, results in order per call', async () => {
    const { batcher, dispatches } = makeBatcher();
    const [a, b] = await Promise.all([batcher.submit(['x', 'y']), batcher.submit(['z'])]);
    expect(a.results).toEqual(['X', 'Y']);
    expect(b.results).toEqual(['Z']);
    expect(dispatches).toEqual([['x', 'y', 'z']]);
    expect(a.queueMs).toBeGreaterThanOrEqual(0);
  });

  it('splits a dispatch when batch × longest estimate would pass the token budget', async () => {
    const { batcher, dispatches } = makeBatcher();
    const long = 'l'.repeat(40);
    await Promise.all([batcher.submit([long, long]), batcher.submit([long])]);
    expect(dispatches.map((d) => d.length)).toEqual([2, 1]);
  });

  it('with batching off, runs each call alone without waiting', async () => {
    const { batcher, dispatches } = makeBatcher({ batching: false, maxBatchWaitMs: 1000 });
    const started = performance.now();
    await Promise.all([batcher.submit(['a', 'b']), batcher.submit(['c'])]);
    expect(dispatches).toEqual([['a', 'b'], ['c']]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('throws QueueFullError at once when the queue bound would be passed', async () => {
    const gate = gatedRunner();
    const { batcher } = makeBatcher({ maxQueue: 3, maxBatchWaitMs: 0, run: gate.run });
    const first = batcher.submit(['a']); // dispatched at once, no longer queued
    await new Promise((r) => setTimeout(r, 5));
    const queued = batcher.submit(['b', 'c']);
    expect(batcher.queued).toBe(2);
    expect(batcher.inflight).toBe(1);
    const err = await batcher.submit(['d', 'e']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).message).toMatch(/2 texts queued \+ 2 requested > maxQueue 3/);
    gate.open();
    expect((await first).results).toEqual(['A']);
    await new Promise((r) => setTimeout(r, 5));
    gate.open();
    expect((await queued).results).toEqual(['B', 'C']);
  });

  it('removes an aborted call from the queue and rejects it with the abort reason', async () => {
    const { batcher, dispatches } = makeBatcher({ maxBatchWaitMs: 20 });
    const controller = new AbortController();
    const aborted = batcher.submit(['gone'], controller.signal);
    const kept = batcher.submit(['kept']);
    controller.abort(new Error('client disconnected'));
    await expect(aborted).rejects.toThrow('client disconnected');
    expect((await kept).results).toEqual(['KEPT']);
    expect(dispatches).toEqual([['kept']]);
  });

  it('rejects every text of the dispatch when the runner fails', async () => {
    const { batcher } = makeBatcher({ run: async () => Promise.reject(new Error('session crashed')) });
    await expect(batcher.submit(['a'])).rejects.toThrow('session crashed');
  });

  it('on close fails queued calls and refuses new ones', async () => {
    const { batcher } = makeBatcher({ maxBatchWaitMs: 1000 });
    const queued = batcher.submit(['a']);
    await batcher.close();
    await expect(queued).rejects.toBeInstanceOf(EmbedderUnavailableError);
    await expect(batcher.submit(['b'])).rejects.toBeInstanceOf(EmbedderUnavailableError);
  });
});
