/**
 * The OpenAI-compatible embeddings API through real workerd against fake nodes
 * (test/edge/helpers/fake-node.ts answers /api/v1/embed and /api/v1/info as a node does):
 * OpenAI's answer shape with float and base64 vectors equal to the node's, usage, the model list,
 * a node's refusals relayed in OpenAI's error shape, a slow batch given its time, and a failing
 * node retried on another one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFloat32 } from '../../shared/embeddings.ts';
import { type FakeCluster, startFakeCluster } from './helpers/fake-cluster.ts';
import { FAKE_MODEL, type FakeNode, fakeVector } from './helpers/fake-node.ts';
import { waitFor } from './helpers/miniflare.ts';

const VARS = { PROBE_INTERVAL_MS: '100', PROBE_TIMEOUT_MS: '300', FAIL_THRESHOLD: '3' };

let running: FakeCluster | undefined;
const nodes: FakeNode[] = [];

beforeAll(async () => {
  running = await startFakeCluster(
    [
      { id: 'a', appliedSeq: '5-0', priority: 100 },
      { id: 'b', appliedSeq: '5-0', priority: 50 },
    ],
    VARS,
    (node) => nodes.push(node),
  );
  await waitFor('a master and both nodes up', async () => {
    const s = (await (await running!.edge.admin('/api/v1/status')).json()) as {
      current_master: string | null;
      nodes: { state: string }[];
    };
    return s.current_master !== null && s.nodes.every((n) => n.state === 'up');
  });
  await waitFor('edge health 200', async () => (await running!.edge.fetch('/health')).status === 200);
});

afterAll(async () => {
  await running?.edge.stop();
  await Promise.all(nodes.map((n) => n.stop()));
});

const embed = (json: unknown) => running!.edge.keyed('/v1/embeddings', { method: 'POST', json });

describe('POST /v1/embeddings and GET /v1/models (workerd + fake nodes)', () => {
  it("answers OpenAI's shape; float and base64 carry the node's vectors exactly", async () => {
    const input = ['taxi reimbursement', 'hotel', '报销'];
    const floats = await embed({ model: FAKE_MODEL.id, input });
    expect(floats.status).toBe(200);
    expect(floats.headers.get('x-served-by')).toMatch(/^[ab]$/);
    const body = (await floats.json()) as {
      object: string;
      model: string;
      data: { object: string; index: number; embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(body).toMatchObject({ object: 'list', model: FAKE_MODEL.id });
    expect(body.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
      ['embedding', 2],
    ]);
    body.data.forEach((d, i) => expect(Float32Array.from(d.embedding)).toEqual(fakeVector(input[i]!)));
    expect(body.usage.prompt_tokens).toBe(4 + 3 + 3);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens);

    const b64 = await embed({ model: FAKE_MODEL.id, input, encoding_format: 'base64' });
    const encoded = (await b64.json()) as { data: { embedding: string }[] };
    encoded.data.forEach((d, i) => expect(decodeFloat32(d.embedding)).toEqual(fakeVector(input[i]!)));

    const single = (await (await embed({ model: FAKE_MODEL.id, input: 'hotel' })).json()) as typeof body;
    expect(single.data).toHaveLength(1);
    expect(Float32Array.from(single.data[0]!.embedding)).toEqual(fakeVector('hotel'));
  });

  it('lists the model', async () => {
    const list = await running!.edge.keyed('/v1/models');
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({
      object: 'list',
      data: [{ id: FAKE_MODEL.id, object: 'model', created: 0, owned_by: 'gte-pro' }],
    });
    const one = await running!.edge.keyed(`/v1/models/${FAKE_MODEL.id}`);
    expect(await one.json()).toMatchObject({ id: FAKE_MODEL.id, object: 'model' });
    const other = await running!.edge.keyed('/v1/models/text-embedding-3-small');
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  });

  it("relays a node's refusal in OpenAI's error shape: another model, other dimensions", async () => {
    const model = await embed({ model: 'text-embedding-3-small', input: 'x' });
    expect(model.status).toBe(404);
    expect(await model.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'not_found_error',
        code: 'model_not_found',
        param: 'model',
      },
    });
    const dims = await embed({ model: FAKE_MODEL.id, input: 'x', dimensions: 8 });
    expect(dims.status).toBe(400);
    expect(((await dims.json()) as { error: { type: string; param: string } }).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'dimensions',
    });
    expect((await embed({ model: FAKE_MODEL.id, input: 'x', dimensions: 3 })).status).toBe(200);
  });

  it('a batch may take longer than a search attempt (1.5 s): it gets a budget that grows with its size', async () => {
    for (const n of nodes) n.searchLatencyMs = 1800;
    try {
      const input = Array.from({ length: 40 }, (_, i) => `text ${i}`);
      const res = await embed({ model: FAKE_MODEL.id, input });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(40);
    } finally {
      for (const n of nodes) n.searchLatencyMs = 0;
    }
  });

  it('a node whose embedder fails is retried on the other node', async () => {
    for (const n of nodes) n.failSearch = n.id === 'a';
    try {
      for (let i = 0; i < 4; i++) {
        const res = await embed({ model: FAKE_MODEL.id, input: `attempt ${i}` });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-served-by')).toBe('b');
      }
    } finally {
      for (const n of nodes) n.failSearch = false;
    }
  });
});
