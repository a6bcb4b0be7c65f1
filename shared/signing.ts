/**
 * HMAC-SHA256 signatures for the control calls between the coordinator and the search nodes.
 *
 * Web Crypto only, so the Worker (workerd) and the node (Node.js 20) run this same code.
 * The signed string is `METHOD\nPATH\nTIMESTAMP\nNONCE\nSHA256(body)`; the receiver refuses
 * a bad signature, a timestamp more than SIGNATURE_MAX_SKEW_MS off its own clock, and a nonce
 * it has already seen within that window (replay).
 *
 * @example
 *   const headers = await signRequest(secret, 'POST', '/api/v1/activate', body);
 *   await fetch(url, { method: 'POST', body, headers });
 */
import { HEADERS, SIGNATURE_MAX_SKEW_MS } from './constants.ts';

const encoder = new TextEncoder();
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const keyCache = new Map<string, Promise<HmacKey>>();

function hmacKey(secret: string): Promise<HmacKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  return toHex(await crypto.subtle.digest('SHA-256', bytes));
}

async function signature(
  secret: string,
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  body: string | Uint8Array,
): Promise<string> {
  const canonical = `${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${await sha256Hex(body)}`;
  return toHex(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(canonical)));
}

/** Headers that authenticate one call; `path` is the URL's pathname (no query string). */
export async function signRequest(
  secret: string,
  method: string,
  path: string,
  body: string | Uint8Array = '',
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = String(now);
  const nonce = crypto.randomUUID();
  return {
    [HEADERS.timestamp]: timestamp,
    [HEADERS.nonce]: nonce,
    [HEADERS.signature]: await signature(secret, method, path, timestamp, nonce, body),
  };
}

/** Remembers nonces for the skew window so that a captured call cannot be replayed. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs: number = SIGNATURE_MAX_SKEW_MS * 2) {}

  /** True the first time a nonce is offered, false on every later offer within the TTL. */
  claim(nonce: string, now: number = Date.now()): boolean {
    if (this.seen.size > 10_000) this.sweep(now);
    const expires = this.seen.get(nonce);
    if (expires !== undefined && expires > now) return false;
    this.seen.set(nonce, now + this.ttlMs);
    return true;
  }

  private sweep(now: number): void {
    for (const [nonce, expires] of this.seen) if (expires <= now) this.seen.delete(nonce);
  }
}

export type VerifyResult =
  | { ok: true }
  | { ok: false; code: 'unsigned' | 'bad_signature' | 'expired' | 'replayed'; message: string };

/** Checks a signed call. Constant-time comparison; the nonce is claimed only once the signature is good. */
export async function verifyRequest(
  secret: string,
  method: string,
  path: string,
  headers: { get(name: string): string | null },
  body: string | Uint8Array,
  nonces: NonceCache,
  now: number = Date.now(),
): Promise<VerifyResult> {
  const timestamp = headers.get(HEADERS.timestamp);
  const nonce = headers.get(HEADERS.nonce);
  const given = headers.get(HEADERS.signature);
  if (!timestamp || !nonce || !given) {
    return {
      ok: false,
      code: 'unsigned',
      message: `signed call needs ${HEADERS.timestamp}, ${HEADERS.nonce} and ${HEADERS.signature} headers`,
    };
  }
  const ts = Number(timestamp);
  if (!Number.isFinite(ts) || Math.abs(now - ts) > SIGNATURE_MAX_SKEW_MS) {
    return {
      ok: false,
      code: 'expired',
      message: `timestamp is more than ${SIGNATURE_MAX_SKEW_MS / 1000}s from this node's clock; check clock sync`,
    };
  }
  const expected = await signature(secret, method, path, timestamp, nonce, body);
  if (!timingSafeEqual(expected, given)) {
    return {
      ok: false,
      code: 'bad_signature',
      message: 'signature does not match; are CLUSTER_SECRET values the same on the edge and the node?',
    };
  }
  if (!nonces.claim(nonce, now))
    return { ok: false, code: 'replayed', message: 'nonce already used: replayed call refused' };
  return { ok: true };
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
