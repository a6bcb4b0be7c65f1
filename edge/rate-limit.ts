/**
 * Per-client rate limit on the public read endpoints (POST /api/v1/search, POST /v1/embeddings),
 * with the Workers Rate Limiting binding SEARCH_RATE_LIMITER (wrangler.toml [[ratelimits]]:
 * `limit` requests per `period` of 10 or 60 s). Over it: 429 `rate_limited` with Retry-After,
 * before any node is asked. Without the binding (not configured) nothing is limited.
 *
 * The client is its bearer key when it sends one (hashed: a key is a secret, the limiter's keys
 * are not), else its address (CF-Connecting-IP). The binding counts per Cloudflare location, so
 * the limit is approximate by design: it is a shield against a runaway client, not a quota.
 */
import type { MiddlewareHandler } from 'hono';
import { EdgeError, type AppEnv } from './http.ts';

/** Seconds a limited client is told to wait: the binding's shorter period. */
export const RATE_LIMIT_RETRY_AFTER_S = 10;

/** The part of the binding this file uses (Cloudflare's RateLimit). */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

const encoder = new TextEncoder();

async function clientKey(authorization: string | undefined, address: string | undefined): Promise<string> {
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  if (!bearer) return `ip:${address ?? 'unknown'}`;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(bearer)));
  return `key:${[...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const limiter = c.env.SEARCH_RATE_LIMITER;
  if (!limiter) return next();
  const key = await clientKey(c.req.header('authorization'), c.req.header('cf-connecting-ip'));
  const { success } = await limiter.limit({ key });
  if (!success)
    throw new EdgeError(
      429,
      'rate_limited',
      `too many requests from this client (SEARCH_RATE_LIMITER in wrangler.toml); retry in ${RATE_LIMIT_RETRY_AFTER_S} s`,
      undefined,
      { 'retry-after': String(RATE_LIMIT_RETRY_AFTER_S) },
    );
  await next();
};
