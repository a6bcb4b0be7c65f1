/**
 * The embedder against real ONNX Runtime and the real demo model: order, batch-invariance, unit
 * length, semantic sanity in English and Chinese, backpressure, CUDA fallback.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../scripts/setup/build-demo-model.ts';
import { waitFor } from '../../scripts/cluster/wait.ts';
import { createEmbedder, QueueFullError, type Embedder } from '../../worker-node/embedder/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL_DIR = path.join(ROOT, '.gte', 'models', 'glove-100d-demo');

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

let embedder: Embedder;
const logs: Array<[string, Record<string, unknown>]> = [];

// Idempotent: builds the model (~10 s) only when no other test file has yet.
beforeAll(async () => {
  await buildDemoModel(MODEL_DIR);
  embedder = await createEmbedder({
    modelDir: MODEL_DIR,
    device: 'cpu',
    onLog: (event, fields) => logs.push([event, fields]),
  });
});

afterAll(async () => {
  await embedder?.close();
});

describe('embedder on the demo model', () => {
  it('describes the model it serves', () => {
    expect(embedder.info).toMatchObject({
      id: 'gte-pro/glove-100d-demo',
      dimension: 100,
      pooling: 'mean',
      maxLength: 256,
      device: 'cpu',
    });
    expect(embedder.info.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(logs.some(([event]) => event === 'embedder.ready')).toBe(true);
  });

  it('gives the same vectors in a batch of 8 as one by one, each of unit length', async () => {
    const texts = [
      'Restart the GPU server after a kernel panic',
      'how do I get reimbursed for travel expenses',
      'quarterly revenue grew by ten percent',
      '服务器重启步骤：先通知值班人员',
      'a',
      'The parking garage closes at midnight and reopens at six in the morning on weekdays',
      '报销流程需要经理审批',
      'password reset',
    ];
    const batched = await embedder.embed(texts);
    const single = await Promise.all(texts.map(async (t) => (await createOneByOne(t))[0]!));
    expect(batched).toHaveLength(8);
    batched.forEach((v, i) => {
      expect(v).toHaveLength(100);
      const delta = Math.max(...v.map((x, d) => Math.abs(x - single[i]![d]!)));
      expect(delta).toBeLessThanOrEqual(1e-5);
      // 'a' is not in the GloVe list: all-[UNK] texts stay a zero vector rather than NaN.
      if (texts[i] === 'a') expect(dot(v, v)).toBe(0);
      else expect(Math.abs(Math.sqrt(dot(v, v)) - 1)).toBeLessThan(1e-5);
    });
  });

  it('ranks a related English sentence above an unrelated one', async () => {
    const [query, travel, gpu] = await embedder.embed([
      'how do I get reimbursed for travel expenses',
      'Submit travel expense claims for reimbursement within 30 days',
      'Restart the GPU server after a kernel panic',
    ]);
    expect(dot(query!, travel!)).toBeGreaterThan(dot(query!, gpu!) + 0.2);
    // The common component is removed: unrelated sentences are not all cosine ~0.9.
    expect(dot(query!, gpu!)).toBeLessThan(0.5);
  });

  it('ranks a Chinese sentence sharing characters above an unrelated one', async () => {
    const [query, restart, expenses] = await embedder.embed([
      '服务器重启',
      '服务器重启步骤：先通知值班人员',
      '报销流程需要经理审批',
    ]);
    expect(dot(query!, restart!)).toBeGreaterThan(dot(query!, expenses!) + 0.2);
  });

  it('truncates long texts instead of failing', async () => {
    const [long] = await embedder.embed([Array.from({ length: 2000 }, () => 'server restart').join(' ')]);
    expect(Math.abs(Math.sqrt(dot(long!, long!)) - 1)).toBeLessThan(1e-5);
  });

  it('coalesces concurrent calls into batches and reports timings', async () => {
    const before = embedder.stats().batches;
    const calls = Array.from({ length: 64 }, (_, i) =>
      embedder.embedTimed([`concurrent request number ${i} about servers`]),
    );
    const results = await Promise.all(calls);
    expect(results.every((r) => r.vectors.length === 1 && r.queueMs >= 0 && r.embedMs >= 0)).toBe(true);
    const stats = embedder.stats();
    expect(stats.batches - before).toBeLessThan(64);
    expect(Math.max(...stats.batchSizes)).toBeGreaterThan(1);
    expect(stats.queued).toBe(0);
    expect(stats.inflight).toBe(0);
  });
});

describe('embedder limits', () => {
  it('rejects with QueueFullError past maxQueue, and serves again once drained', async () => {
    const small = await createEmbedder({
      modelDir: MODEL_DIR,
      device: 'cpu',
      maxQueue: 4,
      maxBatchWaitMs: 20,
    });
    try {
      const first = small.embed(['one', 'two', 'three']);
      await expect(small.embed(['four', 'five'])).rejects.toBeInstanceOf(QueueFullError);
      expect(await first).toHaveLength(3);
      expect(await small.embed(['four', 'five'])).toHaveLength(2);
    } finally {
      await small.close();
    }
  });

  it('drops a call whose signal aborts while queued', async () => {
    const slow = await createEmbedder({ modelDir: MODEL_DIR, device: 'cpu', maxBatchWaitMs: 50 });
    try {
      const controller = new AbortController();
      const pending = slow.embed(['never embedded'], { signal: controller.signal });
      controller.abort(new Error('client went away'));
      await expect(pending).rejects.toThrow('client went away');
      expect(slow.stats().queued).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('falls back to CPU and says so when CUDA cannot be loaded', async () => {
    const events: string[] = [];
    const gpu = await createEmbedder({
      modelDir: MODEL_DIR,
      device: 'cuda',
      onLog: (event) => events.push(event),
    });
    try {
      // On a machine with the CUDA provider installed this is a real CUDA session instead.
      if (gpu.info.device === 'cpu') expect(events).toContain('embedder.cuda_unavailable');
      expect(await gpu.embed(['hello world'])).toHaveLength(1);
    } finally {
      await gpu.close();
    }
  });

  it('reports each session run once through onBatch, warm-up excluded', async () => {
    const runs: number[] = [];
    const observed = await createEmbedder({
      modelDir: MODEL_DIR,
      device: 'cpu',
      onBatch: (run) => runs.push(run.size),
    });
    try {
      expect(runs).toEqual([]);
      await observed.embed(['one', 'two', 'three']);
      expect(runs).toEqual([3]);
      expect(observed.stats()).toMatchObject({ batches: 1, lastBatchSize: 3, batchSizes: [3] });
    } finally {
      await observed.close();
    }
  });

  it('restarts a session worker that died, failing calls fast meanwhile', async () => {
    const crashing = await createEmbedder({ modelDir: MODEL_DIR, device: 'cpu' });
    try {
      const before = (await crashing.embed(['restart the GPU server']))[0]!;
      crashing.crashWorker();
      await waitFor('the embedder to notice', () => crashing.health().state !== 'ok' || null, 10_000);
      await expect(crashing.embed(['anything'])).rejects.toMatchObject({ status: 503 });
      await waitFor('the worker to be back', () => crashing.health().state === 'ok' || null, 30_000);
      expect(crashing.health().restarts).toBe(1);
      const after = (await crashing.embed(['restart the GPU server']))[0]!;
      expect(Array.from(after)).toEqual(Array.from(before));
    } finally {
      await crashing.close();
    }
  });

  it('rejects calls after close', async () => {
    const closing = await createEmbedder({ modelDir: MODEL_DIR, device: 'cpu' });
    await closing.close();
    await expect(closing.embed(['late'])).rejects.toThrow(/closed/);
  });
});

/** A separate embedder with batching off, so each text really runs alone. */
let unbatched: Promise<Embedder> | null = null;
async function createOneByOne(text: string): Promise<Float32Array[]> {
  unbatched ??= createEmbedder({ modelDir: MODEL_DIR, device: 'cpu', batching: false });
  return (await unbatched).embed([text]);
}
afterAll(async () => {
  await (await unbatched)?.close();
});
