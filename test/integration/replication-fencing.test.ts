/**
 * Fencing and control-call security, on two real nodes sharing one Redis.
 *
 * Split brain: B is activated at epoch 2 while A never hears of it and still believes it is the
 * master of epoch 1. A must be unable to write by any path (a direct Lua append, its document
 * endpoint, its BullMQ worker picking up B's jobs), and the stream must never hold an epoch-1
 * entry after an epoch-2 one. Then every malformed or forged control call is refused with a 4xx.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS, SIGNATURE_MAX_SKEW_MS } from '../../shared/constants.ts';
import { signRequest } from '../../shared/signing.ts';
import { encodeVector, ChangeLog, StaleEpochError } from '../../worker-node/replication/change-log.ts';
import {
  ingest,
  startNodeCluster,
  waitFor,
  waitInSync,
  NODE_TEST_TIMEOUT_MS,
  type TestCluster,
} from '../helpers/cluster.ts';
import { loadDocuments } from '../../scripts/corpus/sample.ts';
import { syntheticDocs } from '../../scripts/corpus/synthetic.ts';
import { redisClient } from '../helpers/redis.ts';

const corpus = loadDocuments();
let cluster: TestCluster | undefined;
let redis: Redis | undefined;
const a = () => cluster!.node('a');
const b = () => cluster!.node('b');

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; field?: string } };
}

/** A raw call with exactly these headers and body bytes. */
async function raw(
  url: string,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    body,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

beforeAll(async () => {
  cluster = await startNodeCluster({ nodes: ['a', 'b'] });
  redis = redisClient(cluster.redis.url);
  await ingest(a(), corpus.slice(0, 100), 1, 'replicated');
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

describe('fencing: a deposed master cannot write', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('activating B at epoch 2 moves the fence; a direct Lua append at epoch 1 is refused', async () => {
    const log = new ChangeLog(redis!, cluster!.prefix);
    expect(await log.fence()).toBe(1);
    // B is promoted; A is not told (a partition: the coordinator could not reach it).
    const act = await b().client.activate(2);
    expect(act.status, JSON.stringify(act.body)).toBe(200);
    expect(act.body).toMatchObject({ node: 'b', role: 'master', epoch: 2 });
    expect(await log.fence()).toBe(2);
    expect((await a().client.health()).body).toMatchObject({ role: 'master', epoch: 1 });

    const tailBefore = await log.tail();
    const vector = new Float32Array(100).fill(0.1);
    const err = await log
      .append(1, 'gte-pro/glove-100d-demo', [
        { op: 'upsert', id: 'zombie-lua', text: 'written by a deposed master', metadata: {}, vector },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleEpochError);
    expect((err as StaleEpochError).fence).toBe(2);
    // Nothing reached the stream, not even part of a multi-entry append.
    expect(await log.tail()).toBe(tailBefore);
    // The raw script, as any client could call it, is refused the same way.
    const direct = await redis!
      .eval(
        "local f = tonumber(redis.call('GET', KEYS[1]) or '0') if f ~= tonumber(ARGV[1]) then return redis.error_reply('STALE ' .. f) end return redis.call('XADD', KEYS[2], '*', 'epoch', ARGV[1], 'op', 'upsert', 'id', 'x', 'doc', '{}', 'vec', ARGV[2], 'model', 'm')",
        2,
        log.keys.fence,
        log.keys.log,
        '1',
        encodeVector(vector),
      )
      .catch((e: Error) => e);
    expect(String(direct)).toContain('STALE 2');
    // A fence is never lowered.
    expect(await log.takeFence(1)).toBe(2);
  });

  it("B's writes at epoch 2 all land, even while A's ingest worker still competes for the jobs", async () => {
    // A still runs its BullMQ worker on the shared queue: any job it takes is refused by the fence
    // (A steps down) and retried, to be finished by B under epoch 2.
    const docs = syntheticDocs(300, 'fence');
    await ingest(b(), docs, 2, 'applied', 20);
    const deposedByWorker = (await a().client.signed('GET', '/api/v1/diagnostics')).body.recent_errors.some(
      (e: { event: string }) => e.event === 'role.deposed',
    );
    console.log(
      `A's worker ${deposedByWorker ? 'took a job, hit the fence and stepped down' : 'took no job'}`,
    );
    // A stale or missing epoch header is refused by the new master.
    expect((await b().client.upsert([{ id: 'stale-header', text: 'x' }], 1)).status).toBe(409);
    expect(
      (await b().client.signed('POST', '/api/v1/documents', { documents: [{ id: 'no-header', text: 'x' }] }))
        .status,
    ).toBe(409);
    await waitInSync(b(), [a()]);
    expect((await a().client.signed('GET', `/api/v1/documents/${docs[299]!.id}`)).status).toBe(200);
  });

  it("answers 409 on A's document endpoint, and A steps down", async () => {
    const res = await a().client.upsert(
      [{ id: 'zombie-http', text: 'a write to the deposed master' }],
      1,
      'applied',
    );
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    // stale_epoch when A learns of the fence now; not_master when its worker already met it.
    expect(['stale_epoch', 'not_master']).toContain(res.body.error.code);
    const del = await a().client.remove('fin-001', 1, 'applied');
    expect(del.status).toBe(409);
    // Having seen the fence, A no longer claims to be master, and refuses writes as a non-master.
    expect((await a().client.health()).body.role).toBe('degraded');
    expect((await a().client.upsert([{ id: 'zombie-http-2', text: 'again' }], 1)).status).toBe(409);
    // It still serves reads.
    const s = await a().client.search('expense claim deadline', 3);
    expect(s.status).toBe(200);
    expect(s.body.results).toHaveLength(3);
  });

  it('leaves no write of A in the stream, and no epoch-1 entry after an epoch-2 one', async () => {
    await waitInSync(b(), [a()]);
    for (const id of ['zombie-lua', 'zombie-http', 'zombie-http-2', 'stale-header', 'no-header']) {
      expect((await b().client.signed('GET', `/api/v1/documents/${id}`)).status).toBe(404);
    }
    const entries = (await redis!.xrange(`${cluster!.prefix}:log`, '-', '+')) as [string, string[]][];
    const epochs = entries.map(([, fields]) => Number(fields[fields.indexOf('epoch') + 1]));
    expect(epochs.length).toBe(100 + 300);
    const firstTwo = epochs.indexOf(2);
    expect(firstTwo).toBe(100);
    expect(epochs.slice(firstTwo).every((e) => e === 2)).toBe(true);
    expect(epochs.slice(0, firstTwo).every((e) => e === 1)).toBe(true);
  });
});

describe('control calls: every bad one is refused with its 4xx', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  const path = '/api/v1/activate';

  it('refuses an unsigned call', async () => {
    const res = await raw(b().url, 'POST', path, JSON.stringify({ epoch: 3 }), {});
    expect(res.status).toBe(401);
    expect(res.body.error!.code).toBe('unsigned');
    expect((await raw(b().url, 'GET', '/api/v1/diagnostics', undefined, {})).status).toBe(401);
    expect((await raw(b().url, 'GET', '/api/v1/snapshot', undefined, {})).status).toBe(401);
    expect((await raw(b().url, 'GET', '/api/v1/documents/fin-001', undefined, {})).status).toBe(401);
  });

  it('refuses a bad signature: wrong secret, another path, a tampered body', async () => {
    const body = JSON.stringify({ epoch: 3 });
    const wrongSecret = await signRequest('some-other-secret-0123456789abcdef', 'POST', path, body, {
      node: 'b',
    });
    expect((await raw(b().url, 'POST', path, body, wrongSecret)).body.error!.code).toBe('bad_signature');
    const otherPath = await signRequest(cluster!.secret, 'POST', '/api/v1/degrade', body, { node: 'b' });
    const r2 = await raw(b().url, 'POST', path, body, otherPath);
    expect(r2.status).toBe(401);
    expect(r2.body.error!.code).toBe('bad_signature');
    const signedOther = await signRequest(cluster!.secret, 'POST', path, JSON.stringify({ epoch: 2 }), {
      node: 'b',
    });
    const r3 = await raw(b().url, 'POST', path, body, signedOther);
    expect(r3.status).toBe(401);
    expect(r3.body.error!.code).toBe('bad_signature');
  });

  it('refuses a timestamp more than 30 s off, in either direction', async () => {
    const body = JSON.stringify({ epoch: 3 });
    for (const skew of [-(SIGNATURE_MAX_SKEW_MS + 2000), SIGNATURE_MAX_SKEW_MS + 2000]) {
      const headers = await signRequest(cluster!.secret, 'POST', path, body, {
        node: 'b',
        now: Date.now() + skew,
      });
      const res = await raw(b().url, 'POST', path, body, headers);
      expect(res.status).toBe(401);
      expect(res.body.error!.code).toBe('expired');
    }
    const garbage = await signRequest(cluster!.secret, 'POST', path, body, { node: 'b' });
    expect(
      (await raw(b().url, 'POST', path, body, { ...garbage, [HEADERS.timestamp]: 'yesterday' })).status,
    ).toBe(401);
  });

  it('refuses a replayed nonce', async () => {
    const body = JSON.stringify({ epoch: 2 });
    const headers = await signRequest(cluster!.secret, 'POST', path, body, { node: 'b' });
    const first = await raw(b().url, 'POST', path, body, headers);
    expect(first.status).toBe(200); // idempotent activate at the current epoch
    const again = await raw(b().url, 'POST', path, body, headers);
    expect(again.status).toBe(401);
    expect(again.body.error!.code).toBe('replayed');
  });

  it('refuses a call signed for another node, or for none, with 403 naming the target', async () => {
    const body = JSON.stringify({ epoch: 2 });
    const forA = await signRequest(cluster!.secret, 'POST', path, body, { node: 'a' });
    const res = await raw(b().url, 'POST', path, body, forA);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'wrong_node', message: expect.stringContaining('node a') });
    const untargeted = await signRequest(cluster!.secret, 'POST', path, body);
    const r2 = await raw(b().url, 'POST', path, body, untargeted);
    expect(r2.status).toBe(403);
    expect(r2.body.error!.code).toBe('wrong_node');
    // The target is signed: naming b in the header of a call signed for a breaks the signature.
    const relabelled = await raw(b().url, 'POST', path, body, { ...forA, [HEADERS.node]: 'b' });
    expect(relabelled.body.error!.code).toBe('bad_signature');
  });

  it('refuses a stale epoch with 409', async () => {
    for (const res of [
      await b().client.activate(1),
      await b().client.degrade(1),
      await b().client.standby(1, 'a'),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect((res.body as Answer['body']).error!.code).toBe('stale_epoch');
    }
    expect((await b().client.health()).body).toMatchObject({ role: 'master', epoch: 2 });
  });

  it('refuses a malformed body with 400 naming the field', async () => {
    const call = async (body: string, contentType = 'application/json') => {
      const headers = await signRequest(cluster!.secret, 'POST', path, body, { node: 'b' });
      return raw(b().url, 'POST', path, body, { ...headers, 'content-type': contentType });
    };
    for (const [body, field] of [
      ['{"epoch": "3"}', 'epoch'],
      ['{"epoch": 0}', 'epoch'],
      ['{"epoch": 2.5}', 'epoch'],
      ['{}', 'epoch'],
    ] as const) {
      const res = await call(body);
      expect(res.status, body).toBe(400);
      expect(res.body.error!.field, body).toBe(field);
    }
    const extra = await call('{"epoch": 3, "force": true}');
    expect(extra.status).toBe(400);
    expect(extra.body.error!.message).toContain('force');
    expect((await call('{"epoch": 3')).status).toBe(400);
    expect((await call('')).status).toBe(400);
    expect((await call('{"epoch": 3}', 'text/plain')).status).toBe(415);
    const standbyHeaders = await signRequest(cluster!.secret, 'POST', '/api/v1/standby', '{"epoch": 3}', {
      node: 'b',
    });
    const noMaster = await raw(b().url, 'POST', '/api/v1/standby', '{"epoch": 3}', standbyHeaders);
    expect(noMaster.status).toBe(400);
    expect(noMaster.body.error!.field).toBe('master');
    // None of it changed the node.
    expect((await b().client.health()).body).toMatchObject({ role: 'master', epoch: 2, ready: true });
    await waitFor('A still healthy', async () => (await a().client.health()).status === 200);
  });
});
