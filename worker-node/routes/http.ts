/**
 * What the node's route modules share: the Hono environment (the signed body, the request's
 * logger), the signature check for the edge's control and write calls, and reading a signed JSON
 * body. Signed = HMAC over method, path, timestamp, nonce, target node, epoch and body
 * (shared/signing.ts), replay-proof, and bound to this node.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { LIMITS } from '../../shared/constants.ts';
import { ApiError, parseJsonBody, readBodyBytes } from '../../shared/http-body.ts';
import { type NonceCache, verifyRequest } from '../../shared/signing.ts';
import type { NodeLogger } from '../log.ts';

/** `incoming`: the Node request, when @hono/node-server serves the app (main.ts passes it on). */
export type NodeEnv = {
  Bindings: { incoming?: IncomingMessage } | undefined;
  Variables: { rawBody: Uint8Array; log: NodeLogger };
};

/**
 * The request's body, at most `maxBytes` (413 beyond). A body of declared length is read straight
 * from the Node request when there is one: the Web stream a Request wraps it in cost more of the
 * event loop's time than the rest of a search's work on it. Otherwise through the Request.
 */
export async function requestBody(c: Context<NodeEnv>, maxBytes: number): Promise<Uint8Array> {
  const incoming = c.env?.incoming;
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (!incoming || !Number.isInteger(declared) || declared > maxBytes)
    return readBodyBytes(c.req.raw, maxBytes);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
  } catch (err) {
    throw new ApiError(400, 'body_incomplete', `request body could not be read: ${(err as Error).message}`);
  }
  const body = Buffer.concat(chunks);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** A JSON body (requestBody), parsed and validated; each failure a 4xx ApiError. */
export async function readNodeJson<S extends z.ZodType>(
  c: Context<NodeEnv>,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  return parseJsonBody(c.req.header('content-type') ?? null, await requestBody(c, maxBytes), schema);
}

export type Signed = MiddlewareHandler<NodeEnv>;

export interface SignedCalls {
  secret: string;
  nonces: NonceCache;
  /** This node's id: a call signed for another node (or for none) is refused with 403. */
  nodeId: string;
  /**
   * When this process started listening. The nonce cache lives in memory and a restart empties
   * it, so a call captured before the restart would pass it again while its timestamp is still
   * within the skew window. Every call this process accepted was signed after it started
   * listening; refusing calls signed earlier therefore refuses every such replay. The cost: a
   * call signed just before the restart (or by a signer whose clock runs behind ours) is refused
   * once, and the coordinator's next attempt, signed afresh, passes.
   */
  signedSince: number;
}

/**
 * Refuses (401) a call that is not signed with the cluster secret, is stale, replayed or older
 * than this process; refuses (403) a call signed for another node.
 */
export function signedBy(opts: SignedCalls): Signed {
  const expect = { node: opts.nodeId, signedSince: opts.signedSince };
  return async (c, next) => {
    const body = await requestBody(c, LIMITS.maxBodyBytes);
    const { method, path, raw } = c.req;
    const v = await verifyRequest(
      opts.secret,
      method,
      path,
      raw.headers,
      body,
      opts.nonces,
      Date.now(),
      expect,
    );
    if (!v.ok) throw new ApiError(v.code === 'wrong_node' ? 403 : 401, v.code, v.message);
    c.set('rawBody', body);
    await next();
  };
}

/** The signed body (already read by `signedBy`), parsed and validated. */
export function signedJson<S extends z.ZodType>(c: Context<NodeEnv>, schema: S): z.output<S> {
  return parseJsonBody(c.req.header('content-type') ?? null, c.get('rawBody'), schema);
}
