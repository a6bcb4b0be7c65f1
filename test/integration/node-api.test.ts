/**
 * The node's HTTP contract: bad input of every kind is a 4xx JSON error that names the
 * field (and never crashes the node), /health keeps answering under search load, and /api/v1/info
 * and /metrics say what the operator needs. One real node, a handful of corpus documents.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../scripts/cluster/node-process.ts';
import { LIMITS } from '../../shared/constants.ts';
import { signRequest } from '../../shared/signing.ts';
import {
  ingest,
  NODE_TEST_TIMEOUT_MS,
  startNodeCluster,
  type TestCluster,
  waitFor,
} from '../helpers/cluster.ts';
import { loadDocuments } from '../../scripts/corpus/sample.ts';

const corpus = loadDocuments();
let cluster: TestCluster | undefined;
let node: NodeProcess;

interface RawAnswer {
  status: number;
  body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown>;
}

/** A raw POST with exactly these bytes and content type (the client would fix what we break). */
async function rawPost(
  path: string,
  body: string | Uint8Array,
  contentType: string | null,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const res = await fetch(`${node.url}${path}`, {
    method: 'POST',
    body,
    headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  expect(res.headers.get('content-type') ?? '', `${res.status} ${text.slice(0, 200)}`).toMatch(
    /application\/json/,
  );
  return { status: res.status, body: JSON.parse(text) };
}

const search = (body: unknown, contentType = 'application/json') =>
  rawPost('/api/v1/search', typeof body === 'string' ? body : JSON.stringify(body), contentType);

/** A signed POST of raw bytes (so the signature is right and only the body is wrong). */
async function signedPost(
  path: string,
  body: string | Uint8Array,
  contentType = 'application/json',
): Promise<RawAnswer> {
  // Bound to this node and the epoch (x-gte-node, x-gte-epoch are among the returned headers).
  const headers = await signRequest(cluster!.secret, 'POST', path, body, {
    node: node.id,
    epoch: cluster!.epoch,
  });
  return rawPost(path, body, contentType, headers);
}

function expectError(res: RawAnswer, status: number, field?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error, JSON.stringify(res.body)).toMatchObject({
    code: expect.any(String),
    message: expect.any(String),
  });
  if (field !== undefined) {
    expect(res.body.error!.field, JSON.stringify(res.body)).toBe(field);
    expect(res.body.error!.message).toContain(field);
  }
}

beforeAll(async () => {
  cluster = await startNodeCluster({ nodes: 1 });
  node = cluster.node('a');
  await ingest(node, corpus.slice(0, 120), cluster.epoch, 'applied');
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  await cluster?.stop();
});

describe('bad input is a 4xx JSON error naming the field, never a crash', {
  timeout: NODE_TEST_TIMEOUT_MS,
}, () => {
  it('refuses a body that is not JSON, or not declared as JSON', async () => {
    expectError(await search('{"query": "unterminated'), 400);
    expect((await search('{"query": "unterminated')).body.error!.code).toBe('invalid_json');
    expectError(await search('query=hello'), 400);
    const wrongType = await search({ query: 'hello' }, 'text/plain');
    expectError(wrongType, 415);
    expect(wrongType.body.error!.message).toContain('content-type');
    expectError(await rawPost('/api/v1/search', JSON.stringify({ query: 'hello' }), null), 415);
    expectError(await search({ query: 'hello' }, 'application/x-www-form-urlencoded'), 415);
  });

  it('checks the query: missing, empty, over 2048 characters', async () => {
    expectError(await search({}), 400, 'query');
    expectError(await search({ top_k: 3 }), 400, 'query');
    expectError(await search({ query: '' }), 400, 'query');
    expectError(await search({ query: 'x'.repeat(LIMITS.queryMaxChars + 1) }), 400, 'query');
    expectError(await search({ query: 42 }), 400, 'query');
    // The limit itself is fine.
    expect((await search({ query: 'x'.repeat(LIMITS.queryMaxChars) })).status).toBe(200);
  });

  it.each([0, 101, '5', 1e9, -1, 2.5, null])('refuses top_k %j', async (topK) => {
    expectError(await search({ query: 'expense claim', top_k: topK }), 400, 'top_k');
  });

  it('refuses unknown fields and names them', async () => {
    const res = await search({ query: 'expense claim', topk: 5 });
    expectError(res, 400);
    expect(res.body.error!.message).toContain('topk');
    const inFilter = await search({
      query: 'expense claim',
      filter: { metadata: { lang: 'en' }, lang: 'en' },
    });
    expectError(inFilter, 400);
    expect(inFilter.body.error!.message).toContain('lang');
  });

  it('refuses unknown operators, nested objects and arrays in the metadata filter', async () => {
    // Operators ($eq, $in, $gt, ...) are the only objects a filter value may be.
    expectError(
      await search({ query: 'expense claim', filter: { metadata: { lang: { $regex: 'zh' } } } }),
      400,
      'filter.metadata.lang',
    );
    expectError(
      await search({ query: 'expense claim', filter: { metadata: { lang: { nested: { $eq: 'zh' } } } } }),
      400,
      'filter.metadata.lang',
    );
    expectError(
      await search({ query: 'expense claim', filter: { metadata: { lang: ['zh', 'en'] } } }),
      400,
      'filter.metadata.lang',
    );
    expectError(
      await search({ query: 'expense claim', filter: { metadata: 'lang=zh' } }),
      400,
      'filter.metadata',
    );
  });

  it('refuses invalid UTF-8 bytes', async () => {
    const bytes = new Uint8Array([...Buffer.from('{"query": "caf'), 0xc3, 0x28, 0xff, ...Buffer.from('"}')]);
    const res = await rawPost('/api/v1/search', bytes, 'application/json');
    expectError(res, 400);
    expect(res.body.error!.code).toBe('invalid_utf8');
  });

  it('refuses a 10 MB body with 413 before parsing it', async () => {
    const big = JSON.stringify({ query: 'x'.repeat(10 * 1024 * 1024) });
    const res = await search(big);
    expectError(res, 413);
    // The same on the signed document endpoint, whose limit is LIMITS.maxBodyBytes.
    const docs = JSON.stringify({ documents: [{ id: 'big', text: 'y'.repeat(LIMITS.maxBodyBytes + 1) }] });
    expectError(await signedPost('/api/v1/documents', docs), 413);
  });

  it('reads a body sent in chunks without a declared length, and refuses one past the limit', async () => {
    const chunked = async (parts: string[]) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
          controller.close();
        },
      });
      const res = await fetch(`${node.url}/api/v1/search`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        duplex: 'half',
        signal: AbortSignal.timeout(30_000),
      } as RequestInit);
      return { status: res.status, body: (await res.json()) as RawAnswer['body'] };
    };
    const found = await chunked(['{"query": "expense', ' claim", "top_k": 2}']);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.results).toHaveLength(2);
    const tooBig = await chunked(['{"query": "', 'x'.repeat(LIMITS.maxSearchBodyBytes), '"}']);
    expectError(tooBig, 413);
  });

  it('answers the next request after a client sent less body than it declared and hung up', async () => {
    const { hostname, port } = new URL(node.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /api/v1/search HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"query": "exp`,
    );
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    expect((await node.client.search('expense claim', 3)).body.results).toHaveLength(3);
    expect(node.child.exitCode).toBeNull();
  });

  it('refuses an upsert with an empty id, a bad id, or a 1 MB text (signed)', async () => {
    const post = (documents: unknown) =>
      signedPost('/api/v1/documents', JSON.stringify({ documents, wait: 'applied' }));
    expectError(await post([{ id: '', text: 'hello' }]), 400, 'documents.0.id');
    expectError(
      await post([
        { id: 'ok-1', text: 'hello' },
        { id: '../etc', text: 'hello' },
      ]),
      400,
      'documents.1.id',
    );
    expectError(await post([{ id: 'big-text', text: 'z'.repeat(1024 * 1024) }]), 400, 'documents.0.text');
    expectError(await post([{ id: 'empty-text', text: '' }]), 400, 'documents.0.text');
    expectError(
      await post([{ id: 'nested', text: 'hello', metadata: { a: { b: 1 } } }]),
      400,
      'documents.0.metadata.a',
    );
    expectError(await post([]), 400, 'documents');
    expectError(
      await signedPost(
        '/api/v1/documents',
        JSON.stringify({ documents: [{ id: 'w', text: 'x' }], wait: 'forever' }),
      ),
      400,
      'wait',
    );
    const dup = await post([
      { id: 'dup', text: 'a' },
      { id: 'dup', text: 'b' },
    ]);
    expectError(dup, 400, 'documents');
    // None of the refused documents reached the index.
    for (const id of ['ok-1', 'big-text', 'nested', 'dup'])
      expect((await node.client.signed('GET', `/api/v1/documents/${id}`)).status).toBe(404);
  });

  it('is still alive and healthy after all of it', async () => {
    expect(node.child.exitCode).toBeNull();
    const h = await node.client.health();
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ ready: true, role: 'master', index: { size: 120 } });
    expect((await node.client.search('expense claim', 3)).body.results).toHaveLength(3);
  });
});

describe('observability', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('answers /health while a search load runs', async () => {
    let stop = false;
    let searches = 0;
    const failures: string[] = [];
    const queries = corpus.slice(0, 40).map((d) => d.text.slice(0, 80));
    const workers = Array.from({ length: 24 }, async (_, w) => {
      for (let i = w; !stop; i++) {
        const res = await node.client
          .search(queries[i % queries.length]!, 10)
          .catch((err: Error) => ({ status: 0, body: err.message }));
        if (res.status === 200) searches++;
        else failures.push(`${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
      }
    });
    const probes: { status: number; inflight: number; ready: boolean }[] = [];
    try {
      while (probes.length < 15) {
        const h = await node.client.health();
        probes.push({ status: h.status, inflight: h.body.load.inflight, ready: h.body.ready });
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    expect(failures).toEqual([]);
    expect(searches).toBeGreaterThan(100);
    for (const p of probes) expect(p).toMatchObject({ status: 200, ready: true });
    // The probes really ran during the load, not after it.
    expect(Math.max(...probes.map((p) => p.inflight))).toBeGreaterThan(0);
  });

  it('describes itself at /api/v1/info', async () => {
    const res = await node.client.call('GET', '/api/v1/info');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      node: 'a',
      version: expect.any(String),
      model: {
        id: 'gte-pro/glove-100d-demo',
        checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
        dimension: 100,
        pooling: 'mean',
        device: 'cpu',
      },
      index: { type: 'Flat', metric: 'inner_product', size: 120 },
    });
  });

  it('exports Prometheus metrics at /metrics', async () => {
    const res = await node.client.call<string>('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = res.body;
    expect(text).toMatch(/^gte_node_requests_total\{route="\/api\/v1\/search",status="200"\} \d+/m);
    expect(text).toMatch(/^gte_node_requests_total\{route="\/api\/v1\/search",status="400"\} \d+/m);
    for (const stage of ['queue', 'embed', 'search', 'metadata']) {
      expect(text).toMatch(
        new RegExp(`^gte_node_search_stage_seconds_count\\{stage="${stage}"\\} [1-9]\\d*`, 'm'),
      );
    }
    expect(text).toMatch(/^gte_node_index_size 120$/m);
  });
});

describe('connections', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  // A server that closes an idle keep-alive connection while a client sends on it resets that
  // request (ECONNRESET); clients (undici, workerd) drop idle connections after about 4 s, so the
  // node must keep them open for longer than that, and Node's own default is 5 s.
  it('keeps an idle keep-alive connection open well past the clients’ idle timeout', async () => {
    const { url } = node;
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.setEncoding('utf8');
    let received = '';
    let closed = false;
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('close', () => {
      closed = true;
    });
    const ask = () =>
      socket.write(`GET /health HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`);
    const answers = () => received.split('HTTP/1.1 ').length - 1;
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    ask();
    await waitFor('the first answer', () => answers() === 1 || null, 10_000, 20);
    await new Promise((r) => setTimeout(r, 7000));
    expect(closed).toBe(false);
    ask();
    await waitFor('the second answer on the same connection', () => answers() === 2 || null, 10_000, 20);
    socket.destroy();
  });
});
