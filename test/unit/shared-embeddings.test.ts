/**
 * The pure parts of keys and embeddings: the public view of the cluster status (what it leaves
 * out, and that it parses as PublicClusterStatus), and the embeddings' base64 float32 encoding,
 * which must be byte for byte the change log's (worker-node/replication/change-log.ts) so that
 * /v1/embeddings hands out exactly the vectors the index holds.
 */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../scripts/cli/format.ts';
import { type ClusterStatus, PublicClusterStatus, publicStatus } from '../../shared/edge-api.ts';
import { decodeFloat32, EmbeddingsRequest, encodeFloat32 } from '../../shared/embeddings.ts';
import { decodeVector, encodeVector } from '../../worker-node/replication/change-log.ts';

const node: ClusterStatus['nodes'][number] = {
  id: 'node-1',
  url: 'http://10.0.0.5:8081',
  priority: 100,
  role: 'master',
  state: 'up',
  applied_seq: '5-0',
  lag_entries: 0,
  lag_ms: 0,
  last_probe_ms: 3,
  last_probe_at: 1000,
  consecutive_failures: 0,
  gpu: null,
  parts: { embedder: 'ok', index: 'ok', applier: 'ok', redis: 'ok', disk: 'ok' },
  write_path: 'ok',
  failed_jobs: 1,
  last_failed_job: { job_id: 'j1', reason: 'disk full at /var/lib/gte/node-1', at: 900 },
};

const status: ClusterStatus = {
  current_master: 'node-1',
  epoch: 3,
  standby_status: 'none',
  nodes: [node],
  last_failover: null,
  failover_in_progress: false,
  coordinator: {
    alarm_at: 1,
    alarm_armed_at: 1,
    alarm_armed_by: 'cron',
    probe_interval_ms: 2000,
    note: null,
  },
};

describe('publicStatus', () => {
  it('leaves out node URLs, parts, the write path, job failure reasons and the probe loop', () => {
    const view = publicStatus(status);
    expect(PublicClusterStatus.parse(view)).toEqual(view);
    expect(view).not.toHaveProperty('coordinator');
    expect(Object.keys(view.nodes[0]!).sort()).toEqual(
      [
        'applied_seq',
        'consecutive_failures',
        'failed_jobs',
        'gpu',
        'id',
        'lag_entries',
        'lag_ms',
        'last_probe_at',
        'last_probe_ms',
        'priority',
        'role',
        'state',
      ].sort(),
    );
    expect(JSON.stringify(view)).not.toContain('10.0.0.5');
    expect(JSON.stringify(view)).not.toContain('/var/lib');
    expect(view).toMatchObject({ current_master: 'node-1', epoch: 3, standby_status: 'none' });
    // The CLI renders either view.
    expect(renderStatus(view, 'http://edge')).toMatch(/node-1 +master +up .*\(admin token\)/);
    expect(renderStatus(status, 'http://edge')).toContain('http://10.0.0.5:8081');
  });
});

describe('embeddings encoding', () => {
  it("is the change log's encoding byte for byte, little-endian, and round-trips exactly", () => {
    const v = Float32Array.from([0.1, -0.25, 1 / 3, 1e-30, -0, 65504.5]);
    expect(encodeFloat32(v)).toBe(encodeVector(v));
    expect(decodeFloat32(encodeVector(v))).toEqual(decodeVector(encodeVector(v)));
    expect(decodeFloat32(encodeFloat32(v))).toEqual(v);
    // Float32 values survive a JSON number (the "float" encoding) unchanged; JSON has no -0 (it reads 0).
    const finite = v.map((x) => (Object.is(x, -0) ? 0 : x));
    expect(Float32Array.from(JSON.parse(JSON.stringify(Array.from(v))) as number[])).toEqual(finite);
    const one = new DataView(
      Uint8Array.from(atob(encodeFloat32(Float32Array.of(1))), (c) => c.charCodeAt(0)).buffer,
    );
    expect(one.getFloat32(0, true)).toBe(1);
    // A long vector (more than one chunk of the encoder).
    const long = Float32Array.from({ length: 20_000 }, (_, i) => Math.sin(i));
    expect(encodeFloat32(long)).toBe(encodeVector(long));
  });

  it('validates the OpenAI request: string or up to 256 strings, float or base64, nothing unknown', () => {
    expect(EmbeddingsRequest.parse({ model: 'm', input: 'x' })).toEqual({
      model: 'm',
      input: 'x',
      encoding_format: 'float',
    });
    expect(EmbeddingsRequest.safeParse({ model: 'm', input: Array(256).fill('x') }).success).toBe(true);
    for (const bad of [
      { model: 'm', input: Array(257).fill('x') },
      { model: 'm', input: [] },
      { model: 'm', input: '' },
      { model: 'm', input: 'x', encoding_format: 'int8' },
      { model: 'm', input: 'x', dimensions: 0 },
      { model: 'm', input: 'x', temperature: 1 },
      { input: 'x' },
    ])
      expect(EmbeddingsRequest.safeParse(bad).success, JSON.stringify(bad).slice(0, 60)).toBe(false);
  });
});
