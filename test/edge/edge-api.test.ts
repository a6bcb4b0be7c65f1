/**
 * The edge's public API in real workerd (Miniflare), with no search node or with nodes that
 * cannot answer: validation, auth (admin token, search keys, PUBLIC_SEARCH), 503s, /openapi.json,
 * /metrics, the cron, node registration, internals of the status only for the admin token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../shared/version.ts';
import { closedPort } from './helpers/fake-node.ts';
import { startEdge, waitFor, type EdgeHandle } from './helpers/miniflare.ts';

let edge: EdgeHandle;

beforeAll(async () => {
  // A short probe interval only so that the "every node down" case is reached quickly.
  edge = await startEdge({ vars: { PROBE_INTERVAL_MS: '100', PROBE_TIMEOUT_MS: '300' } });
});
afterAll(async () => {
  await edge?.stop();
});

async function errorOf(res: Response): Promise<{ code: string; message: string; field?: string }> {
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string; field?: string } };
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  return body.error;
}

const search = (init: Parameters<EdgeHandle['fetch']>[1]) =>
  edge.keyed('/api/v1/search', { method: 'POST', ...init });

type Route = [method: string, path: string, json?: unknown];

/** One call of a route with this Authorization header (none when undefined). */
const call = ([method, path, json]: Route, authorization?: string) =>
  edge.fetch(path, { method, ...(json ? { json } : {}), headers: authorization ? { authorization } : {} });

/** An error of the OpenAI-compatible routes: `{"error": {"message","type","code","param"}}`. */
async function openAiErrorOf(
  res: Response,
): Promise<{ message: string; type: string; code: string; param: unknown }> {
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as {
    error: { message: string; type: string; code: string; param: unknown };
  };
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.type).toBe('string');
  expect(typeof body.error.code).toBe('string');
  return body.error;
}

describe('edge API without nodes', () => {
  it('the cron handler re-arms a missing probe alarm', async () => {
    // A fresh cluster with no node: nothing has armed the loop yet.
    const before = (await (await edge.admin('/api/v1/status')).json()) as {
      coordinator: { alarm_at: number | null; alarm_armed_by: string | null };
    };
    expect(before.coordinator.alarm_at).toBeNull();
    await edge.scheduled();
    const after = await waitFor('cron to arm the alarm', async () => {
      const s = (await (await edge.admin('/api/v1/status')).json()) as {
        coordinator: {
          alarm_at: number | null;
          alarm_armed_by: string | null;
          alarm_armed_at: number | null;
        };
      };
      return s.coordinator.alarm_armed_by === 'cron' ? s : null;
    });
    expect(after.coordinator.alarm_armed_at).not.toBeNull();
    expect(after.coordinator.alarm_at).not.toBeNull();
    // a second cron run finds it armed and leaves it alone
    await edge.scheduled();
    const line = await waitFor('second cron log', async () =>
      edge.logs().find((l) => l.event === 'cron.probe_loop_armed' && l.already_armed === true),
    );
    expect(line).toMatchObject({ component: 'worker', cron: '* * * * *' });
  });

  it('validates search bodies before any upstream call', async () => {
    const cases: [Parameters<EdgeHandle['fetch']>[1], number, string, string?][] = [
      [{ body: '{"query":"x"}', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
      [{ body: '{"query":"x"}' }, 415, 'unsupported_media_type'],
      [{ body: '{"query":', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
      [{ json: { query: '' } }, 400, 'invalid_request', 'query'],
      [{ json: { query: 'x'.repeat(2049) } }, 400, 'invalid_request', 'query'],
      [{ json: { query: 'ok', top_k: 0 } }, 400, 'invalid_request', 'top_k'],
      [{ json: { query: 'ok', top_k: 101 } }, 400, 'invalid_request', 'top_k'],
      [{ json: { query: 'ok', top_k: 2.5 } }, 400, 'invalid_request', 'top_k'],
      [{ json: { query: 42 } }, 400, 'invalid_request', 'query'],
      [{ json: { query: 'ok', extra: true } }, 400, 'invalid_request'],
      [{ json: { query: 'ok', filter: { metadata: { k: { nested: 1 } } } } }, 400, 'invalid_request'],
      [{ json: ['query'] }, 400, 'invalid_request'],
      [{ json: { query: 'x', pad: 'y'.repeat(70 * 1024) } }, 413, 'body_too_large'],
    ];
    for (const [init, status, code, field] of cases) {
      const res = await search(init);
      expect(res.status, JSON.stringify(init).slice(0, 80)).toBe(status);
      const error = await errorOf(res);
      expect(error.code).toBe(code);
      if (field) expect(error.field).toBe(field);
    }
    const unknown = await errorOf(await search({ json: { query: 'ok', extra: true } }));
    expect(unknown.message).toMatch(/unknown field.*extra/);
  });

  it('answers 503 with a clear error when no node is registered', async () => {
    const res = await search({ json: { query: 'hello' } });
    expect(res.status).toBe(503);
    const error = await errorOf(res);
    expect(error.code).toBe('no_node_available');
    expect(error.message).toMatch(/0 registered/);
    const health = await edge.fetch('/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      status: 'unhealthy',
      master: null,
      error: { code: 'no_healthy_master' },
    });
  });

  it('refuses token routes without, or with a wrong, Bearer token', async () => {
    const routes: Route[] = [
      ['POST', '/api/v1/documents', { documents: [{ id: 'a', text: 'b' }] }],
      ['GET', '/api/v1/documents/a'],
      ['DELETE', '/api/v1/documents/a'],
      ['GET', '/api/v1/jobs/j1'],
      ['GET', '/api/v1/failovers'],
      ['GET', '/api/v1/failovers/fo-1'],
      ['POST', '/api/v1/admin/switchover', {}],
      ['POST', '/api/v1/admin/nodes', { id: 'x', url: 'http://127.0.0.1:1' }],
      ['DELETE', '/api/v1/admin/nodes/x'],
    ];
    for (const route of routes) {
      for (const authorization of [
        undefined,
        'Bearer wrong-token',
        `Basic ${edge.adminToken}`,
        `Bearer ${edge.adminToken}x`,
      ]) {
        const res = await call(route, authorization);
        expect(res.status, `${route[0]} ${route[1]} with ${authorization}`).toBe(401);
        expect((await errorOf(res)).code).toBe('unauthorized');
      }
    }
  });

  it('search and the embeddings API need a key (API_KEYS or the admin token): 401 with WWW-Authenticate', async () => {
    const routes: Route[] = [
      ['POST', '/api/v1/search', { query: 'hello' }],
      ['POST', '/v1/embeddings', { model: 'm', input: 'hello' }],
      ['GET', '/v1/models'],
    ];
    for (const route of routes) {
      const [method, path] = route;
      for (const authorization of [
        undefined,
        'Bearer wrong-key',
        `Basic ${edge.apiKey}`,
        `Bearer ${edge.apiKey}x`,
        `Bearer ${edge.adminToken}x`,
      ]) {
        const res = await call(route, authorization);
        const what = `${method} ${path} with ${authorization}`;
        expect(res.status, what).toBe(401);
        expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
        if (path.startsWith('/v1/')) expect((await openAiErrorOf(res)).type).toBe('authentication_error');
        else expect((await errorOf(res)).code).toMatch(/^(unauthorized|invalid_api_key)$/);
      }
      // The search key and the admin token both pass the check (then: no node to serve).
      for (const token of [edge.apiKey, edge.adminToken]) {
        const res = await call(route, `Bearer ${token}`);
        expect(res.status, `${method} ${path}`).toBe(503);
        if (path.startsWith('/v1/')) expect((await openAiErrorOf(res)).code).toBe('no_node_available');
        else expect((await errorOf(res)).code).toBe('no_node_available');
      }
    }
  });

  it("validates embeddings bodies, answering in OpenAI's error shape", async () => {
    const embed = (init: Parameters<EdgeHandle['fetch']>[1]) =>
      edge.keyed('/v1/embeddings', { method: 'POST', ...init });
    const cases: [Parameters<EdgeHandle['fetch']>[1], number, string, string?][] = [
      [
        { body: '{"model":"m","input":"x"}', headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
      [{ body: '{"model":', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
      [{ json: { input: 'x' } }, 400, 'invalid_request', 'model'],
      [{ json: { model: 'm', input: '' } }, 400, 'invalid_request', 'input'],
      [{ json: { model: 'm', input: [] } }, 400, 'invalid_request', 'input'],
      [{ json: { model: 'm', input: Array(257).fill('x') } }, 400, 'invalid_request', 'input'],
      [{ json: { model: 'm', input: 'x'.repeat(2049) } }, 400, 'invalid_request', 'input'],
      [{ json: { model: 'm', input: [[1, 2, 3]] } }, 400, 'invalid_request', 'input'],
      [
        { json: { model: 'm', input: 'x', encoding_format: 'int8' } },
        400,
        'invalid_request',
        'encoding_format',
      ],
      [{ json: { model: 'm', input: 'x', dimensions: 0 } }, 400, 'invalid_request', 'dimensions'],
      [{ json: { model: 'm', input: 'x', extra: 1 } }, 400, 'invalid_request'],
    ];
    for (const [init, status, code, param] of cases) {
      const res = await embed(init);
      expect(res.status, JSON.stringify(init).slice(0, 80)).toBe(status);
      const error = await openAiErrorOf(res);
      expect(error.code).toBe(code);
      expect(error.type).toBe('invalid_request_error');
      if (param) expect(error.param).toBe(param);
    }
  });

  it('validates admin and document bodies', async () => {
    const bad = await edge.admin('/api/v1/admin/nodes', {
      method: 'POST',
      json: { id: 'bad id!', url: 'http://127.0.0.1:1' },
    });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).field).toBe('id');
    const badUrl = await edge.admin('/api/v1/admin/nodes', {
      method: 'POST',
      json: { id: 'n', url: 'not a url' },
    });
    expect(badUrl.status).toBe(400);
    const docs = await edge.admin('/api/v1/documents', { method: 'POST', json: { documents: [] } });
    expect(docs.status).toBe(400);
    expect((await errorOf(docs)).field).toBe('documents');
    const badId = await edge.admin('/api/v1/documents/%20bad', { method: 'GET' });
    expect(badId.status).toBe(400);
    const missing = await edge.admin('/api/v1/failovers/fo-nope');
    expect(missing.status).toBe(404);
    const removeUnknown = await edge.admin('/api/v1/admin/nodes/ghost', { method: 'DELETE' });
    expect(removeUnknown.status).toBe(404);
    const noMaster = await edge.admin('/api/v1/admin/switchover', { method: 'POST', json: {} });
    expect(noMaster.status).toBe(409);
    expect((await errorOf(noMaster)).code).toBe('no_master');
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const res = await edge.fetch('/nope');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('not_found');
  });

  it('describes the API at /openapi.json from the zod schemas', async () => {
    const res = await edge.fetch('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, { maximum?: number }> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(VERSION); // shared/version.ts: package.json's, in the Worker bundle too
    for (const path of [
      '/api/v1/search',
      '/health',
      '/api/v1/status',
      '/api/v1/documents',
      '/api/v1/admin/switchover',
      '/metrics',
      '/v1/embeddings',
      '/v1/models',
    ])
      expect(doc.paths).toHaveProperty([path]);
    expect(doc.components.schemas.SearchRequest?.properties?.top_k?.maximum).toBe(100);
    expect(doc.components.schemas.SearchRequest?.properties).toHaveProperty('include_text');
    // Results are documents, each with its best passage and where it lies in the document.
    const hit = JSON.stringify(doc.components.schemas.SearchResponse);
    for (const field of ['"passage"', '"start"', '"end"']) expect(hit).toContain(field);
    expect(doc.components.schemas.ClusterStatus?.properties).toHaveProperty('standby_status');
  });

  it('registers a node through the admin API; a node at a closed port ends up down and search says so', async () => {
    const port = await closedPort();
    const res = await edge.admin('/api/v1/admin/nodes', {
      method: 'POST',
      json: { id: 'dead-1', url: `http://127.0.0.1:${port}/`, priority: 10 },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      created: true,
      node: { id: 'dead-1', url: `http://127.0.0.1:${port}` },
    });
    const again = await edge.admin('/api/v1/admin/nodes', {
      method: 'POST',
      json: { id: 'dead-1', url: `http://127.0.0.1:${port}`, priority: 20 },
    });
    expect(again.status).toBe(200);

    const status = await waitFor('the dead node to be marked down', async () => {
      const s = (await (await edge.fetch('/api/v1/status')).json()) as {
        current_master: string | null;
        nodes: { id: string; state: string; priority: number }[];
      };
      return s.nodes[0]?.state === 'down' ? s : null;
    });
    expect(status.current_master).toBeNull();
    expect(status.nodes).toMatchObject([{ id: 'dead-1', priority: 20, state: 'down' }]);

    const searchRes = await search({ json: { query: 'hello' } });
    expect(searchRes.status).toBe(503);
    expect((await errorOf(searchRes)).message).toMatch(/1 registered, none up/);
    expect((await edge.fetch('/health')).status).toBe(503);
    const write = await edge.admin('/api/v1/documents', {
      method: 'POST',
      json: { documents: [{ id: 'a', text: 'b' }] },
    });
    expect(write.status).toBe(503);
    expect((await errorOf(write)).code).toBe('no_master_available');
  });

  it('shows node URLs and other internals only with the admin token', async () => {
    const publicView = (await (await edge.fetch('/api/v1/status')).json()) as Record<string, unknown> & {
      nodes: Record<string, unknown>[];
    };
    const full = (await (await edge.admin('/api/v1/status')).json()) as Record<string, unknown> & {
      nodes: Record<string, unknown>[];
    };
    const keyed = (await (await edge.keyed('/api/v1/status')).json()) as Record<string, unknown>;
    expect(full.coordinator).toBeDefined();
    expect(full.nodes[0]).toMatchObject({
      id: 'dead-1',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/),
    });
    expect(full.nodes[0]).toHaveProperty('parts');
    for (const view of [publicView, keyed]) {
      expect(view).not.toHaveProperty('coordinator');
      expect(view).toMatchObject({ epoch: full.epoch, standby_status: full.standby_status });
    }
    expect(publicView.nodes).toHaveLength(1);
    expect(publicView.nodes[0]).toMatchObject({ id: 'dead-1', state: 'down', role: full.nodes[0]!.role });
    for (const hidden of ['url', 'parts', 'write_path', 'last_failed_job'])
      expect(publicView.nodes[0]).not.toHaveProperty(hidden);
    const url = full.nodes[0]!.url as string;
    expect(await (await edge.fetch('/status')).text()).not.toContain(url);
    expect(await (await edge.admin('/status')).text()).toContain(url);
  });

  it('exposes Prometheus metrics', async () => {
    const res = await edge.fetch('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE gte_pro_failover_count_total counter$/m);
    expect(text).toMatch(/^gte_pro_failover_count_total 0$/m);
    expect(text).toMatch(/^gte_pro_epoch 0$/m);
    expect(text).toMatch(/^gte_pro_node_up\{node="dead-1"\} 0$/m);
    expect(text).toMatch(/^gte_pro_probe_total\{node="dead-1",outcome="connect_error"\} \d+$/m);
    // every sample line is `name{labels} number`
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#')))
      expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?$/);
  });

  it('serves the HTML status page', async () => {
    const res = await edge.fetch('/status');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('data-node="dead-1"');
    expect(html).toMatch(/id="epoch">0</);
  });

  it('logs structured JSON lines with the request id', async () => {
    await edge.fetch('/openapi.json', { headers: { 'x-request-id': 'req-abc-123' } });
    const line = await waitFor('the access log line', async () =>
      edge.logs().find((l) => l.event === 'http.request' && l.request_id === 'req-abc-123'),
    );
    expect(line).toMatchObject({ component: 'worker', method: 'GET', path: '/openapi.json', status: 200 });
    // The shared format (shared/log.ts): the same leading keys as the search node's lines.
    expect(Object.keys(line!).slice(0, 5)).toEqual(['time', 'level', 'component', 'event', 'request_id']);
  });

  it('removes a node that is not the master', async () => {
    const res = await edge.admin('/api/v1/admin/nodes/dead-1', { method: 'DELETE' });
    expect(res.status).toBe(200);
    const s = (await (await edge.fetch('/api/v1/status')).json()) as {
      nodes: unknown[];
      standby_status: string;
    };
    expect(s.nodes).toEqual([]);
    expect(s.standby_status).toBe('none');
  });
});

describe('an edge with no key configured', () => {
  it('refuses search with 503 not_configured, saying how to set keys', async () => {
    const bare = await startEdge({ adminToken: '', apiKeys: '' });
    try {
      const res = await bare.fetch('/api/v1/search', {
        method: 'POST',
        json: { query: 'hello' },
        headers: { authorization: 'Bearer anything' },
      });
      expect(res.status).toBe(503);
      const error = await errorOf(res);
      expect(error.code).toBe('not_configured');
      expect(error.message).toMatch(/wrangler secret put API_KEYS/);
    } finally {
      await bare.stop();
    }
  });
});

describe('a corpus declared public (PUBLIC_SEARCH = "true")', () => {
  it('searches and embeds without a key; the status keeps its internals to the admin token', async () => {
    const open = await startEdge({ vars: { PUBLIC_SEARCH: 'true' } });
    try {
      const res = await open.fetch('/api/v1/search', { method: 'POST', json: { query: 'hello' } });
      expect(res.status).toBe(503);
      expect((await errorOf(res)).code).toBe('no_node_available');
      const embed = await open.fetch('/v1/embeddings', { method: 'POST', json: { model: 'm', input: 'x' } });
      expect(embed.status).toBe(503);
      expect((await (await open.fetch('/api/v1/status')).json()) as object).not.toHaveProperty('coordinator');
    } finally {
      await open.stop();
    }
  });
});
