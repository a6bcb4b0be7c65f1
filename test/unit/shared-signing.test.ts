import { describe, expect, it } from 'vitest';
import { HEADERS, SIGNATURE_MAX_SKEW_MS } from '../../shared/constants.ts';
import { NonceCache, signRequest, verifyRequest } from '../../shared/signing.ts';

const SECRET = 'test-cluster-secret';
const T0 = 1_750_000_000_000;
const BODY = JSON.stringify({ epoch: 3 });

function headersOf(record: Record<string, string>) {
  return { get: (name: string) => record[name] ?? null };
}

async function signed(now = T0) {
  return signRequest(SECRET, 'POST', '/api/v1/activate', BODY, now);
}

/** Verifies the activate call as a node would, at `now`, with a fresh nonce cache unless given one. */
function verifyActivate(headers: Record<string, string>, now: number, nonces = new NonceCache()) {
  return verifyRequest(SECRET, 'POST', '/api/v1/activate', headersOf(headers), BODY, nonces, now);
}

describe('signed control calls', () => {
  it('verifies a good signature made with the same secret', async () => {
    const headers = await signed();
    expect(headers[HEADERS.timestamp]).toBe(String(T0));
    expect(await verifyActivate(headers, T0 + 1000)).toEqual({ ok: true });
  });

  it('signs the method case-insensitively and accepts bytes for the body', async () => {
    const headers = await signRequest(SECRET, 'post', '/api/v1/activate', new TextEncoder().encode(BODY), T0);
    expect((await verifyActivate(headers, T0)).ok).toBe(true);
  });

  it.each([
    ['body', 'POST', '/api/v1/activate', JSON.stringify({ epoch: 4 }), SECRET],
    ['path', 'POST', '/api/v1/degrade', BODY, SECRET],
    ['method', 'PUT', '/api/v1/activate', BODY, SECRET],
    ['secret', 'POST', '/api/v1/activate', BODY, 'another-secret'],
  ])('refuses a call whose %s changed', async (_what, method, path, body, secret) => {
    const headers = await signed();
    const verdict = await verifyRequest(secret, method, path, headersOf(headers), body, new NonceCache(), T0);
    expect(verdict).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('refuses a tampered signature or nonce', async () => {
    const headers = await signed();
    const flipped = headers[HEADERS.signature]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const tampered of [
      { ...headers, [HEADERS.signature]: flipped },
      { ...headers, [HEADERS.nonce]: crypto.randomUUID() },
    ]) {
      expect(await verifyActivate(tampered, T0)).toMatchObject({ ok: false, code: 'bad_signature' });
    }
  });

  it('refuses a timestamp 31 s off the receiver clock, either way, and accepts 30 s', async () => {
    expect(SIGNATURE_MAX_SKEW_MS).toBe(30_000);
    const headers = await signed();
    const at = (now: number) => verifyActivate(headers, now);
    expect(await at(T0 + 31_000)).toMatchObject({ ok: false, code: 'expired' });
    expect(await at(T0 - 31_000)).toMatchObject({ ok: false, code: 'expired' });
    expect(await at(T0 + 30_000)).toEqual({ ok: true });
    expect(await at(T0 - 30_000)).toEqual({ ok: true });
  });

  it('refuses a replayed nonce, and does not burn a nonce on a bad signature', async () => {
    const headers = headersOf(await signed());
    const nonces = new NonceCache();
    const verify = (body: string, now: number) =>
      verifyRequest(SECRET, 'POST', '/api/v1/activate', headers, body, nonces, now);
    expect(await verify('{"epoch":9}', T0)).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(await verify(BODY, T0)).toEqual({ ok: true });
    expect(await verify(BODY, T0 + 1)).toMatchObject({ ok: false, code: 'replayed' });
    // Still refused at the edge of the skew window, when the timestamp alone would pass.
    expect(await verify(BODY, T0 + 30_000)).toMatchObject({ ok: false, code: 'replayed' });
  });

  it('refuses an unsigned call, naming the headers it needs', async () => {
    const verdict = await verifyActivate({}, T0);
    expect(verdict).toMatchObject({ ok: false, code: 'unsigned' });
    if (!verdict.ok) expect(verdict.message).toContain(HEADERS.signature);
  });

  it('gives every call its own nonce', async () => {
    const [a, b] = await Promise.all([signed(), signed()]);
    expect(a[HEADERS.nonce]).not.toBe(b[HEADERS.nonce]);
  });
});
