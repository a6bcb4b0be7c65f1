/**
 * Signed calls bound to their target (shared/signing.ts as a search node uses it): the signature
 * covers the target node and the epoch header, a node refuses a call for another node or for
 * none, and refuses calls signed before it started listening (no nonce replay across a restart).
 */
import { describe, expect, it } from 'vitest';
import { HEADERS } from '../../shared/constants.ts';
import { NonceCache, signRequest, type VerifyExpect, verifyRequest } from '../../shared/signing.ts';

const SECRET = 'test-cluster-secret';
const T0 = 1_750_000_000_000;
const PATH = '/api/v1/activate';
const BODY = JSON.stringify({ epoch: 3 });

function headersOf(record: Record<string, string>) {
  return { get: (name: string) => record[name] ?? null };
}

/** Verifies the activate call as node `b` would, at T0 + 1 s, with a fresh nonce cache. */
function verifyAt(
  headers: Record<string, string>,
  expect: VerifyExpect = { node: 'b' },
  nonces = new NonceCache(),
) {
  return verifyRequest(SECRET, 'POST', PATH, headersOf(headers), BODY, nonces, T0 + 1000, expect);
}

describe('signed calls bound to a node and an epoch', () => {
  it('sends the target and the epoch as headers, and the target node accepts the call', async () => {
    const headers = await signRequest(SECRET, 'POST', PATH, BODY, { node: 'b', epoch: 7, now: T0 });
    expect(headers).toMatchObject({
      [HEADERS.node]: 'b',
      [HEADERS.epoch]: '7',
      [HEADERS.timestamp]: String(T0),
    });
    expect(await verifyAt(headers)).toEqual({ ok: true });
  });

  it('refuses a call signed for another node, naming both', async () => {
    const headers = await signRequest(SECRET, 'POST', PATH, BODY, { node: 'a', now: T0 });
    const verdict = await verifyAt(headers);
    expect(verdict).toMatchObject({ ok: false, code: 'wrong_node' });
    expect(!verdict.ok && verdict.message).toBe('this call is for node a, this is node b; refused');
  });

  it('refuses an untargeted call on a node, and still accepts it where no target is asked for', async () => {
    const headers = await signRequest(SECRET, 'POST', PATH, BODY, T0);
    expect(headers[HEADERS.node]).toBeUndefined();
    expect(await verifyAt(headers)).toMatchObject({ ok: false, code: 'wrong_node' });
    expect(await verifyAt(headers, {})).toEqual({ ok: true });
  });

  it('covers the target and the epoch: changing either header breaks the signature', async () => {
    const headers = await signRequest(SECRET, 'POST', PATH, BODY, { node: 'a', epoch: 7, now: T0 });
    const bad = { ok: false, code: 'bad_signature' };
    expect(await verifyAt({ ...headers, [HEADERS.node]: 'b' }, { node: 'b' })).toMatchObject(bad);
    expect(await verifyAt({ ...headers, [HEADERS.epoch]: '8' }, { node: 'a' })).toMatchObject(bad);
    const noEpoch = { ...headers };
    delete noEpoch[HEADERS.epoch];
    expect(await verifyAt(noEpoch, { node: 'a' })).toMatchObject(bad);
  });

  it('does not burn the nonce of a genuine call that went to the wrong node', async () => {
    const headers = await signRequest(SECRET, 'POST', PATH, BODY, { node: 'b', now: T0 });
    const nonces = new NonceCache();
    expect(await verifyAt(headers, { node: 'a' }, nonces)).toMatchObject({ code: 'wrong_node' });
    expect(await verifyAt(headers, { node: 'b' }, nonces)).toEqual({ ok: true });
    expect(await verifyAt(headers, { node: 'b' }, nonces)).toMatchObject({ code: 'replayed' });
  });

  it('refuses a call signed before the node started listening: a restart forgets nonces, not this', async () => {
    const headers = await signRequest(SECRET, 'POST', PATH, BODY, { node: 'b', now: T0 });
    // The first process accepted it...
    expect(await verifyAt(headers, { node: 'b', signedSince: T0 - 60_000 })).toEqual({ ok: true });
    // ...then restarted at T0 + 500 with an empty nonce cache: the replay is refused.
    const replay = await verifyAt(headers, { node: 'b', signedSince: T0 + 500 });
    expect(replay).toMatchObject({ ok: false, code: 'before_start' });
    // A call signed at the moment it started listening is fine.
    expect(await verifyAt(headers, { node: 'b', signedSince: T0 })).toEqual({ ok: true });
  });
});
