/**
 * Real clients against a real 2-node cluster (Redis, two search nodes, the edge in workerd):
 * the official `openai` SDK calling /v1/embeddings with its defaults (base64 on the wire) and with
 * floats, `@langchain/openai`'s OpenAIEmbeddings pointed at the edge, and README's LangChain.js
 * retriever over /api/v1/search, run as README shows it. Also: the vectors are the ones in the
 * change log (the index's), and search and embeddings refuse a missing or wrong key with 401.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OpenAIEmbeddings } from '@langchain/openai';
import { Redis } from 'ioredis';
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';
import { ROOT } from '../../scripts/cluster/node-process.ts';
import { decodeFloat32 } from '../../shared/embeddings.ts';

let cluster: Cluster;
let model: string;
let dir: string;

const DOCS = [
  { id: 'oa-taxi', text: 'Taxis and ride-hailing are reimbursable for airport transfers.' },
  { id: 'oa-hotel', text: 'Hotel stays are booked through the travel desk at the negotiated rate.' },
  { id: 'oa-vpn', text: 'Reset your VPN token from the self-service portal before travelling.' },
];

const openai = (apiKey: string) =>
  new OpenAI({ apiKey, baseURL: `${cluster.state.edge_url}/v1`, maxRetries: 0 });

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2 });
  const res = await cluster.adminFetch('/api/v1/documents', {
    method: 'POST',
    json: { documents: DOCS, wait: 'replicated' },
  });
  expect(res.status).toBe(200);
  const models = await openai(cluster.state.api_key).models.list();
  model = models.data[0]!.id;
  dir = mkdtempSync(join(tmpdir(), 'gte-openai-'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the openai SDK', () => {
  it('lists the one model and embeds with its defaults (base64) and with floats, to equal vectors', async () => {
    const client = openai(cluster.state.api_key);
    expect((await client.models.retrieve(model)).id).toBe(model);
    const input = DOCS.map((d) => d.text);
    const byDefault = await client.embeddings.create({ model, input });
    const floats = await client.embeddings.create({ model, input, encoding_format: 'float' });
    expect(byDefault.object).toBe('list');
    expect(byDefault.model).toBe(model);
    expect(byDefault.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(byDefault.usage.prompt_tokens).toBeGreaterThan(0);
    expect(byDefault.usage.total_tokens).toBe(byDefault.usage.prompt_tokens);
    for (let i = 0; i < input.length; i++) {
      const a = Float32Array.from(byDefault.data[i]!.embedding);
      const b = Float32Array.from(floats.data[i]!.embedding);
      expect(a.length).toBeGreaterThan(0);
      expect(a).toEqual(b);
      // L2-normalised, as the index stores them.
      expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    }
    // One string is one embedding.
    const one = await client.embeddings.create({ model, input: DOCS[0]!.text, encoding_format: 'float' });
    expect(Float32Array.from(one.data[0]!.embedding)).toEqual(Float32Array.from(floats.data[0]!.embedding));
  });

  it('gives exactly the vectors the index holds (the change log entry of each document)', async () => {
    const raw = await fetch(`${cluster.state.edge_url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.state.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: DOCS.map((d) => d.text), encoding_format: 'base64' }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('x-served-by')).toMatch(/^node-/);
    const body = (await raw.json()) as { data: { embedding: string }[] };
    const redis = new Redis(cluster.state.redis_url);
    try {
      const entries = await redis.xrange(`${cluster.state.redis_prefix}:log`, '-', '+');
      const logged = new Map<string, string>();
      for (const [, fields] of entries) {
        const f: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (f.op === 'upsert' && f.id && f.vec) logged.set(f.id, f.vec);
      }
      DOCS.forEach((d, i) => {
        expect(logged.get(d.id), d.id).toBeDefined();
        expect(decodeFloat32(body.data[i]!.embedding)).toEqual(decodeFloat32(logged.get(d.id)!));
      });
    } finally {
      redis.disconnect();
    }
  });

  it('is refused without the right key, for other dimensions and for another model', async () => {
    await expect(openai('not-a-key').embeddings.create({ model, input: 'taxi' })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    const client = openai(cluster.state.api_key);
    const wrongDims = await client.embeddings
      .create({ model, input: 'taxi', dimensions: 7 })
      .catch((e: unknown) => e);
    expect(wrongDims).toBeInstanceOf(BadRequestError);
    expect((wrongDims as BadRequestError).param).toBe('dimensions');
    const otherModel = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'taxi' })
      .catch((e: unknown) => e);
    expect(otherModel).toBeInstanceOf(NotFoundError);
    expect((otherModel as NotFoundError).code).toBe('model_not_found');
    // The admin token is a key too.
    expect(
      (await openai(cluster.state.admin_token).embeddings.create({ model, input: 'x' })).data,
    ).toHaveLength(1);
  });

  it('search and embeddings answer 401 with WWW-Authenticate to a missing or wrong key', async () => {
    const edge = cluster.state.edge_url;
    const json = { 'content-type': 'application/json' };
    for (const headers of [json, { ...json, authorization: 'Bearer wrong' }]) {
      const search = await fetch(`${edge}/api/v1/search`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: 'taxi' }),
      });
      expect(search.status).toBe(401);
      expect(search.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await search.json()) as { error: { code: string } }).error.code).toMatch(
        /unauthorized|invalid_api_key/,
      );
      const embed = await fetch(`${edge}/v1/embeddings`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, input: 'taxi' }),
      });
      expect(embed.status).toBe(401);
      expect(embed.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await embed.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    }
    const ok = await fetch(`${edge}/api/v1/search`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${cluster.state.api_key}` },
      body: JSON.stringify({ query: 'taxi' }),
    });
    expect(ok.status).toBe(200);
  });
});

describe('LangChain.js', () => {
  it('OpenAIEmbeddings pointed at the edge embeds queries and documents as the SDK does', async () => {
    const embeddings = new OpenAIEmbeddings({
      model,
      apiKey: cluster.state.api_key,
      configuration: { baseURL: `${cluster.state.edge_url}/v1` },
      maxRetries: 0,
    });
    const docs = await embeddings.embedDocuments(DOCS.map((d) => d.text));
    const query = await embeddings.embedQuery(DOCS[0]!.text);
    const sdk = await openai(cluster.state.api_key).embeddings.create({
      model,
      input: DOCS.map((d) => d.text),
      encoding_format: 'float',
    });
    expect(docs).toHaveLength(DOCS.length);
    docs.forEach((v, i) => expect(Float32Array.from(v)).toEqual(Float32Array.from(sdk.data[i]!.embedding)));
    expect(Float32Array.from(query)).toEqual(Float32Array.from(sdk.data[0]!.embedding));
  });

  it("README's retriever over /api/v1/search finds the taxi policy", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block =
      /<!-- langchain-retriever:start -->\n```js\n([\s\S]*?)```\n<!-- langchain-retriever:end -->/.exec(
        readme,
      );
    expect(block, 'the retriever block in README.md').not.toBeNull();
    // Beside a link to node_modules, so that its imports resolve as in a user's project.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const file = join(dir, 'retriever.mjs');
    writeFileSync(file, block![1]!);
    const { GteProRetriever } = (await import(pathToFileURL(file).href)) as {
      GteProRetriever: new (o: {
        url: string;
        apiKey: string;
        topK?: number;
      }) => {
        invoke(q: string): Promise<{ pageContent: string; metadata: Record<string, unknown> }[]>;
      };
    };
    const retriever = new GteProRetriever({
      url: cluster.state.edge_url,
      apiKey: cluster.state.api_key,
      topK: 3,
    });
    const found = await retriever.invoke('taxi to the airport');
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((d) => d.metadata.id)).toContain('oa-taxi');
    expect(found.find((d) => d.metadata.id === 'oa-taxi')!.pageContent).toBe(DOCS[0]!.text);
  });
});
