/**
 * HMAC-SHA256 signatures for the control calls between the coordinator and the search nodes.
 *
 * Web Crypto only, so the Worker (workerd) and the node (Node.js 20) run this same code.
 * The signed string is `METHOD\nPATH\nTIMESTAMP\nNONCE\nTARGET_NODE\nEPOCH\nSHA256(body)`, where
 * TARGET_NODE and EPOCH are the `x-gte-node` and `x-gte-epoch` headers (empty when absent; EPOCH
 * also when there is no TARGET_NODE): a call is bound to the node it was meant for and its epoch. The receiver refuses a bad
 * signature, a timestamp more than SIGNATURE_MAX_SKEW_MS off its own clock, a nonce it has already
 * seen within that window (replay) and, when it asks for one, a call for another node (or none).
 *
 * @example
 *   const headers = await signRequest(secret, 'POST', '/api/v1/activate', body, { node: 'node-2', epoch: 7 });
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

interface Signed {
  method: string;
  path: string;
  timestamp: string;
  nonce: string;
  node: string;
  epoch: string;
}

async function signature(secret: string, s: Signed, body: string | Uint8Array): Promise<string> {
  // An untargeted call (no node: older callers, which set x-gte-epoch apart from the signature)
  // binds no epoch either; search nodes refuse untargeted calls, so they lose nothing by it.
  const epoch = s.node ? s.epoch : '';
  const head = `${s.method.toUpperCase()}\n${s.path}\n${s.timestamp}\n${s.nonce}\n${s.node}\n${epoch}`;
  const canonical = `${head}\n${await sha256Hex(body)}`;
  return toHex(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(canonical)));
}

/** What a signature binds a call to besides its method, path and body. */
export interface SignTarget {
  /** The id of the node the call is meant for (`x-gte-node`); search nodes refuse calls without it. */
  node?: string;
  /** The epoch the call carries (`x-gte-epoch`): signed, so it cannot be changed on the way. */
  epoch?: number | string;
  /** The signing time (ms); tests inject it. */
  now?: number;
}

/**
 * Headers that authenticate one call; `path` is the URL's pathname (no query string). The fifth
 * argument is the target (node, epoch) or, as before, just the time. The returned headers include
 * `x-gte-node` and `x-gte-epoch` when given: send them as they are (setting `x-gte-epoch` to
 * another value afterwards breaks the signature).
 */
export async function signRequest(
  secret: string,
  method: string,
  path: string,
  body: string | Uint8Array = '',
  target: SignTarget | number = {},
): Promise<Record<string, string>> {
  const t = typeof target === 'number' ? { now: target } : target;
  const s: Signed = {
    method,
    path,
    timestamp: String(t.now ?? Date.now()),
    nonce: crypto.randomUUID(),
    node: t.node ?? '',
    epoch: t.epoch === undefined ? '' : String(t.epoch),
  };
  const headers: Record<string, string> = {
    [HEADERS.timestamp]: s.timestamp,
    [HEADERS.nonce]: s.nonce,
    [HEADERS.signature]: await signature(secret, s, body),
  };
  if (s.node) headers[HEADERS.node] = s.node;
  if (s.epoch) headers[HEADERS.epoch] = s.epoch;
  return headers;
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
  | {
      ok: false;
      code: 'unsigned' | 'bad_signature' | 'expired' | 'replayed' | 'wrong_node' | 'before_start';
      message: string;
    };

/** What the receiver itself requires of a call, beyond a good, fresh, unreplayed signature. */
export interface VerifyExpect {
  /** This receiver's node id: a call must name it in `x-gte-node` (absent or another id: refused). */
  node?: string;
  /**
   * Calls signed before this time (ms) are refused. A receiver that forgets its nonces when it
   * restarts passes the time it started listening: every call it saw before is older than that.
   */
  signedSince?: number;
}

/** Checks a signed call. Constant-time comparison; the nonce is claimed only once the signature is good. */
export async function verifyRequest(
  secret: string,
  method: string,
  path: string,
  headers: { get(name: string): string | null },
  body: string | Uint8Array,
  nonces: NonceCache,
  now: number = Date.now(),
  expect: VerifyExpect = {},
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
  if (expect.signedSince !== undefined && ts < expect.signedSince) {
    return {
      ok: false,
      code: 'before_start',
      message: 'call signed before this node started; a call from before a restart is not accepted',
    };
  }
  const node = headers.get(HEADERS.node) ?? '';
  const epoch = headers.get(HEADERS.epoch) ?? '';
  const expected = await signature(secret, { method, path, timestamp, nonce, node, epoch }, body);
  if (!timingSafeEqual(expected, given)) {
    return {
      ok: false,
      code: 'bad_signature',
      message: 'signature does not match; are CLUSTER_SECRET values the same on the edge and the node?',
    };
  }
  // After the signature: only a genuine call learns which node it should have gone to.
  if (expect.node !== undefined && node !== expect.node) {
    return {
      ok: false,
      code: 'wrong_node',
      message: node
        ? `this call is for node ${node}, this is node ${expect.node}; refused`
        : `signed call names no target node (${HEADERS.node}); this is node ${expect.node}; refused`,
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
