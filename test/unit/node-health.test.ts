/**
 * What the node says about itself (worker-node/health.ts) as pure functions of plain state, the
 * nvidia-smi reading (worker-node/telemetry/gpu.ts), and the node's log lines (worker-node/log.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  healthStatus,
  isReady,
  type NodeState,
  nodeDiagnostics,
  nodeHealth,
  nodeInfo,
  nodeParts,
  RecentErrors,
} from '../../worker-node/health.ts';
import { createLogger } from '../../worker-node/log.ts';
import { parseNvidiaSmi } from '../../worker-node/telemetry/gpu.ts';

const base: NodeState = {
  node: 'a',
  lifecycle: 'running',
  data: 'open',
  role: { role: 'standby', epoch: 4, master: 'b' },
  modelId: 'm1',
  index: { size: 10, applied_seq: '7-0' },
  lag: { entries: 2, ms: 30 },
  stalledMs: 0,
  redis: 'up',
  embedder: { state: 'ok', restarts: 0, last_error: null },
  engine: { state: 'ok', restarts: 0, last_error: null },
  disk: 'ok',
  bounds: { maxLagEntries: 1000, maxLagMs: 5000, stallMs: 10_000 },
  gpu: null,
  load: { inflight: 1, queued: 0, event_loop_lag_ms: 0.5, overloaded: false },
  ingest: { failed_jobs: 0, last_failure: null },
};

describe('readiness and status', () => {
  it.each([
    ['starting', 'open', false, 'starting'],
    ['running', 'open', true, 'ok'],
    ['running', 'resynchronising', false, 'starting'],
    ['running', 'needs_resync', false, 'starting'],
    ['stopping', 'open', false, 'stopping'],
    ['stopping', 'resynchronising', false, 'stopping'],
  ] as const)('%s with data %s: ready %s, status %s', (lifecycle, data, ready, status) => {
    const s = { ...base, lifecycle, data };
    expect(isReady(s)).toBe(ready);
    expect(healthStatus(s)).toBe(status);
  });

  it('a ready degraded node says so; a degraded node that is not ready is starting', () => {
    const role = { role: 'degraded' as const, epoch: 5, master: null };
    expect(healthStatus({ ...base, role })).toBe('degraded');
    expect(healthStatus({ ...base, role, data: 'needs_resync' })).toBe('starting');
  });
});

describe('/health body', () => {
  it('reports role, index, lag, redis and load', () => {
    expect(nodeHealth(base)).toEqual({
      status: 'ok',
      node: 'a',
      role: 'standby',
      epoch: 4,
      ready: true,
      parts: { embedder: 'ok', index: 'ok', applier: 'ok', redis: 'ok', disk: 'ok' },
      write_path: 'ok',
      model: { id: 'm1', loaded: true },
      index: { size: 10, applied_seq: '7-0' },
      replication: { lag_entries: 2, lag_ms: 30, redis: 'up' },
      gpu: null,
      load: base.load,
      ingest: { failed_jobs: 0, last_failure: null },
    });
  });

  it('reports no lag while a resync has the engine closed', () => {
    const h = nodeHealth({ ...base, data: 'resynchronising' });
    expect(h).toMatchObject({ ready: false, status: 'starting' });
    expect(h.replication).toEqual({ lag_entries: 0, lag_ms: 0, redis: 'up' });
  });
});

describe('readiness from every part a search or a write needs', () => {
  const restarting = { state: 'restarting' as const, restarts: 1, last_error: 'worker exited with code 70' };
  const failed = { state: 'failed' as const, restarts: 6, last_error: 'worker exited with code 70' };

  it('an embedder restarting: not ready, starting, model not loaded, the reason in parts and write_path', () => {
    const h = nodeHealth({ ...base, embedder: restarting });
    expect(h).toMatchObject({ ready: false, status: 'starting', model: { id: 'm1', loaded: false } });
    expect(h.parts!.embedder).toBe('restarting: worker exited with code 70');
    expect(h.write_path).toBe('embedder: restarting: worker exited with code 70');
  });

  it('a supervised part that gave up: status failed, whichever part it is', () => {
    expect(nodeHealth({ ...base, embedder: failed })).toMatchObject({ ready: false, status: 'failed' });
    const h = nodeHealth({ ...base, engine: failed });
    expect(h).toMatchObject({ ready: false, status: 'failed' });
    expect(h.parts!.index).toBe('failed: worker exited with code 70');
    // Shutting down says so even then.
    expect(healthStatus({ ...base, engine: failed, lifecycle: 'stopping' })).toBe('stopping');
  });

  it.each([
    ['entries over the bound', { entries: 1001, ms: 10 }, false],
    ['age over the bound', { entries: 3, ms: 5001 }, false],
    ['exactly at both bounds', { entries: 1000, ms: 5000 }, true],
  ])('lag %s: ready %s', (_what, lag, ready) => {
    const s = { ...base, lag };
    expect(isReady(s)).toBe(ready);
    expect(nodeParts(s).applier.startsWith('lagging')).toBe(!ready);
    expect(healthStatus(s)).toBe(ready ? 'ok' : 'starting');
    // Lagging slows wait answers but the write path still works.
    expect(nodeHealth(s).write_path).toBe('ok');
  });

  it('a lagging master stays ready: its backlog is its own burst of writes, and load is never death', () => {
    const lagging = { ...base, lag: { entries: 5000, ms: 9000 } };
    const master = { ...lagging, role: { role: 'master' as const, epoch: 3, master: base.node } };
    expect(isReady(lagging)).toBe(false);
    expect(isReady(master)).toBe(true);
    expect(nodeHealth(master).parts!.applier).toMatch(/^lagging/);
    // A stalled applier still takes even the master out.
    expect(isReady({ ...master, stalledMs: 12_000 })).toBe(false);
  });

  it('an applier that stopped making progress with the tail ahead is stalled, and breaks the write path', () => {
    const s = { ...base, stalledMs: 12_000 };
    expect(nodeParts(s).applier).toBe('stalled: nothing applied for 12 s with the log tail ahead');
    expect(nodeHealth(s)).toMatchObject({ ready: false, status: 'starting' });
    expect(nodeHealth(s).write_path).toMatch(/^applier: stalled/);
    expect(isReady({ ...base, stalledMs: 9_999 })).toBe(true);
  });

  it('with Redis out, judges the lag by the backlog last seen, not by a clock that only ages it', () => {
    const outage = { ...base, redis: 'down' as const, lag: { entries: 3, ms: 60_000 }, stalledMs: 60_000 };
    expect(nodeParts(outage).applier).toBe('ok');
    expect(isReady(outage)).toBe(true);
    expect(nodeParts({ ...outage, lag: { entries: 1001, ms: 60_000 } }).applier).toMatch(/^lagging/);
  });

  it('trimmed past or resynchronising: the applier and the index say why', () => {
    expect(nodeParts({ ...base, data: 'needs_resync' }).applier).toMatch(/^trimmed past/);
    const parts = nodeParts({ ...base, data: 'resynchronising' });
    expect(parts.index).toMatch(/^resynchronising/);
    expect(parts.applier).toMatch(/^resynchronising/);
  });

  it('Redis or the disk out: still ready for searches, degraded, and the write path names it', () => {
    const noRedis = nodeHealth({ ...base, redis: 'down' });
    expect(noRedis).toMatchObject({ ready: true, status: 'degraded', write_path: 'redis: unreachable' });
    expect(noRedis.parts!.redis).toBe('unreachable');
    const fullDisk = nodeHealth({ ...base, disk: 'not writable: ENOSPC no space left on device' });
    expect(fullDisk).toMatchObject({ ready: true, status: 'degraded' });
    expect(fullDisk.write_path).toBe('disk: not writable: ENOSPC no space left on device');
  });
});

describe('/api/v1/info and diagnostics', () => {
  it('describes the model and the index', () => {
    const info = nodeInfo({
      node: 'a',
      version: '1.2.3',
      model: { id: 'm1', checksum: 'c', dimension: 3, pooling: 'mean', maxLength: 128, device: 'cpu' },
      index: { type: 'Flat', size: 10, labels: 12 },
      redisPrefix: '{gte}',
    });
    expect(info).toEqual({
      node: 'a',
      version: '1.2.3',
      model: { id: 'm1', checksum: 'c', dimension: 3, pooling: 'mean', max_length: 128, device: 'cpu' },
      index: { type: 'Flat', metric: 'inner_product', size: 10, labels: 12 },
      redis_prefix: '{gte}',
    });
  });

  it('keeps the last 50 errors, shows 30, and picks out OOM / CUDA ones', () => {
    const errors = new RecentErrors();
    for (let i = 0; i < 60; i++) errors.note('search.failed', `error ${i}`);
    errors.note('embed.failed', 'CUDA error: out of memory');
    expect(errors.list()).toHaveLength(50);
    const d = nodeDiagnostics({
      node: 'a',
      role: base.role,
      health: nodeHealth(base),
      recentErrors: errors.list(),
      gpuHistory: [],
      memory: process.memoryUsage(),
      uptimeS: 12.4,
    });
    expect(d.recent_errors).toHaveLength(30);
    expect(d.oom_or_cuda_errors.map((e) => e.detail)).toEqual(['CUDA error: out of memory']);
    expect(d.uptime_s).toBe(12);
  });
});

describe('nvidia-smi parsing', () => {
  it('reads the first line of the csv query', () => {
    expect(parseNvidiaSmi('37, 1024, 81920, 55\n12, 1, 2, 3\n')).toEqual({
      util: 37,
      mem_used_mb: 1024,
      mem_total_mb: 81920,
      temp_c: 55,
    });
  });

  it.each(['', '\n', '[N/A], 1024, 81920, 55', '37, 1024, 81920', 'No devices were found'])(
    'gives null for %j',
    (out) => {
      expect(parseNvidiaSmi(out)).toBeNull();
    },
  );
});

describe('node log lines', () => {
  afterEach(() => vi.restoreAllMocks());

  it('one JSON object per line with node and epoch; a child adds its fields', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const logger = createLogger(() => ({ node: 'a', epoch: 3 }), 'info');
    logger.debug('hidden', {});
    logger.child({ request_id: 'req-1' }).warn('role.deposed', { fence: 4 });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      level: 'warn',
      component: 'node',
      event: 'role.deposed',
      node: 'a',
      epoch: 3,
      request_id: 'req-1',
      fence: 4,
    });
  });
});
