import { describe, expect, it } from 'vitest';
import { ReportDiagnostics } from '../../shared/edge-api.ts';
import { NodeDiagnostics, NodeInfo, type NodeHealth } from '../../shared/schemas.ts';

const health: NodeHealth = {
  status: 'ok',
  node: 'gpu-a',
  role: 'master',
  epoch: 3,
  ready: true,
  model: { id: 'glove-100d-demo', loaded: true },
  index: { size: 10, applied_seq: '17-0' },
  replication: { lag_entries: 0, lag_ms: 0, redis: 'up' },
  gpu: null,
  load: { inflight: 0, queued: 0, event_loop_lag_ms: 1, overloaded: false },
};

/** What the search node's info() answers (worker-node: /api/v1/info). */
const info = {
  node: 'gpu-a',
  version: '0.1.0',
  model: {
    id: 'glove-100d-demo',
    checksum: 'ab'.repeat(32),
    dimension: 100,
    pooling: 'mean',
    max_length: 128,
    device: 'cpu',
  },
  index: { type: 'Flat', metric: 'inner_product', size: 10, labels: 12 },
  redis_prefix: '{gte}',
};

/** What the search node's diagnostics() answers (worker-node: /api/v1/diagnostics). */
const diagnostics = {
  node: 'gpu-a',
  role: { role: 'master', epoch: 3, master: 'gpu-a' },
  health,
  recent_errors: [{ at: '2026-01-01T00:00:00.000Z', event: 'http.error', detail: 'CUDA out of memory' }],
  oom_or_cuda_errors: [{ at: '2026-01-01T00:00:00.000Z', event: 'http.error', detail: 'CUDA out of memory' }],
  gpu_history: [{ util: 99, mem_used_mb: 7900, mem_total_mb: 8000, temp_c: 80, at: 1_700_000_000_000 }],
  memory: { rss: 1e8, heapTotal: 5e7, heapUsed: 4e7, external: 1e6, arrayBuffers: 1e5 },
  uptime_s: 3600,
};

describe("the node's info and diagnostics answers", () => {
  it('parse what the node answers, unchanged', () => {
    expect(NodeInfo.parse(info)).toEqual(info);
    expect(NodeDiagnostics.parse(diagnostics)).toEqual(diagnostics);
  });

  it('refuse answers of another shape', () => {
    expect(NodeInfo.safeParse({ ...info, index: { ...info.index, metric: 'l2' } }).success).toBe(false);
    expect(NodeDiagnostics.safeParse({ node: 'gpu-a', errors: [], gpu_history: [] }).success).toBe(false);
    expect(NodeDiagnostics.safeParse({ ...diagnostics, role: 'master' }).success).toBe(false);
  });

  it("a report's diagnostics: the node's answer, or why there is none", () => {
    expect(ReportDiagnostics.parse(diagnostics)).toEqual(diagnostics);
    expect(ReportDiagnostics.parse({ unavailable: 'timeout after 1000 ms' })).toEqual({
      unavailable: 'timeout after 1000 ms',
    });
    expect(ReportDiagnostics.safeParse({ something: 'else' }).success).toBe(false);
  });
});
