/**
 * What the node's route modules share: the Hono environment (the signed body, the request's
 * logger), the signature check for the edge's control and write calls, and reading a signed JSON
 * body. Signed = HMAC over method, path, timestamp, nonce and body (shared/signing.ts), replay-proof.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { LIMITS } from '../../shared/constants.ts';
import { ApiError, parseJsonBody, readBodyBytes } from '../../shared/http-body.ts';
import { type NonceCache, verifyRequest } from '../../shared/signing.ts';
import type { NodeLogger } from '../log.ts';

export type NodeEnv = { Variables: { rawBody: Uint8Array; log: NodeLogger } };

export type Signed = MiddlewareHandler<NodeEnv>;

/** Refuses (401) a call that is not signed with the cluster secret for this node, or is replayed. */
export function signedBy(secret: string, nonces: NonceCache): Signed {
  return async (c, next) => {
    const body = await readBodyBytes(c.req.raw, LIMITS.maxBodyBytes);
    const v = await verifyRequest(secret, c.req.method, c.req.path, c.req.raw.headers, body, nonces);
    if (!v.ok) throw new ApiError(401, v.code, v.message);
    c.set('rawBody', body);
    await next();
  };
}

/** The signed body (already read by `signedBy`), parsed and validated. */
export function signedJson<S extends z.ZodType>(c: Context<NodeEnv>, schema: S): z.output<S> {
  return parseJsonBody(c.req.header('content-type') ?? null, c.get('rawBody'), schema);
}
