/**
 * Request-side helpers shared by the routes: the one error shape, body limits before parsing,
 * JSON + zod validation into 4xx answers, and the key checks (admin token, search keys).
 *
 * Errors are thrown (ApiError / EdgeError, a ready answer like Hono's HTTPException) so handlers
 * stay linear; app.ts turns them, and anything unexpected, into `{"error": {"code","message"}}`.
 */
export { ApiError };
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { describeZodError } from '../shared/errors.ts';
import { ApiError, readJson } from '../shared/http-body.ts';
import type { Env } from './env.ts';

export type AppEnv = { Bindings: Env; Variables: { requestId: string } };
export type AppContext = Context<AppEnv>;

/**
 * The shared ApiError (shared/http-body.ts, same codes as the node) plus response headers the
 * edge needs on some errors (retry-after, x-gte-attempts, www-authenticate).
 */
export class EdgeError extends ApiError {
  override readonly name: string = 'EdgeError';

  constructor(
    status: ApiError['status'],
    code: string,
    message: string,
    field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, code, message, field);
  }
}

export function errorResponse(error: ApiError): Response {
  return Response.json(error.toBody(), {
    status: error.status,
    headers: error instanceof EdgeError ? error.headers : {},
  });
}

/**
 * Reads a JSON body within `maxBytes` and validates it (shared/http-body.ts, so the edge and the
 * node refuse the same bodies with the same codes): 415 wrong content type, 413 too big (counted
 * while reading), 400 invalid UTF-8 / JSON / schema, unknown fields included.
 */
export async function readJsonBody<T extends z.ZodType>(
  c: AppContext,
  schema: T,
  maxBytes: number,
): Promise<{ value: z.output<T> }> {
  return { value: await readJson(c.req.raw, schema, maxBytes) };
}

/** Validates a path parameter with a zod schema (400 naming the parameter). */
export function pathParam<T extends z.ZodType>(c: AppContext, name: string, schema: T): z.infer<T> {
  const parsed = schema.safeParse(c.req.param(name));
  if (!parsed.success)
    throw new ApiError(400, 'invalid_request', `${name}: ${describeZodError(parsed.error).message}`, name);
  return parsed.data;
}

const encoder = new TextEncoder();

/** Compares SHA-256 digests with crypto.subtle.timingSafeEqual: constant time and equal lengths whatever was sent. */
async function tokenMatches(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

function bearer(c: AppContext): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
  return match ? match[1]!.trim() : null;
}

/** `API_KEYS`: keys separated by commas, whitespace or newlines (`wrangler secret put API_KEYS`). */
export function apiKeys(env: Env): string[] {
  return (env.API_KEYS ?? '').split(/[\s,]+/).filter((key) => key.length > 0);
}

/** Whether the call carries the admin token (for the internals of /api/v1/status and /status). */
export async function hasAdminToken(c: AppContext): Promise<boolean> {
  const given = bearer(c);
  return Boolean(given && c.env.ADMIN_TOKEN && (await tokenMatches(given, c.env.ADMIN_TOKEN)));
}

/**
 * Who may read the knowledge base: the admin token or one of API_KEYS, unless wrangler.toml
 * declares the corpus public (`PUBLIC_SEARCH = "true"`). Every key is compared, whichever
 * matches, so the time taken does not tell which key (or how many) there are.
 */
export type SearchAccess = 'public' | 'granted' | 'missing' | 'wrong' | 'not_configured';

export async function searchAccess(c: AppContext): Promise<SearchAccess> {
  if (c.env.PUBLIC_SEARCH === 'true') return 'public';
  const keys = [...apiKeys(c.env), ...(c.env.ADMIN_TOKEN ? [c.env.ADMIN_TOKEN] : [])];
  if (keys.length === 0) return 'not_configured';
  const given = bearer(c);
  if (!given) return 'missing';
  const matches = await Promise.all(keys.map((key) => tokenMatches(given, key)));
  return matches.some(Boolean) ? 'granted' : 'wrong';
}

/** The refusal for a search or embeddings call without a valid key (401 with WWW-Authenticate, or 503). */
export function searchRefusal(access: Exclude<SearchAccess, 'public' | 'granted'>): EdgeError {
  if (access === 'not_configured')
    return new EdgeError(
      503,
      'not_configured',
      'search needs keys and none is set: run `wrangler secret put API_KEYS` (or set PUBLIC_SEARCH = "true" in wrangler.toml for a public corpus)',
    );
  const message =
    access === 'missing'
      ? 'search needs a key: send "Authorization: Bearer <key>" with one of the API_KEYS (or the admin token)'
      : 'the key sent is not one of the API_KEYS (nor the admin token)';
  return new EdgeError(401, access === 'missing' ? 'unauthorized' : 'invalid_api_key', message, undefined, {
    'www-authenticate': 'Bearer realm="gte-pro"',
  });
}

/** A search key (one of API_KEYS, or the admin token) unless the corpus is public; else 401. */
export const requireSearchKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const access = await searchAccess(c);
  if (access !== 'public' && access !== 'granted') throw searchRefusal(access);
  await next();
};

/** `Authorization: Bearer <ADMIN_TOKEN>` or 401. */
export const requireToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) {
    throw new EdgeError(
      503,
      'not_configured',
      'ADMIN_TOKEN is not set on the edge; run `wrangler secret put ADMIN_TOKEN` (or put it in .dev.vars locally)',
    );
  }
  const given = bearer(c);
  if (!given || !(await tokenMatches(given, expected))) {
    throw new EdgeError(401, 'unauthorized', 'send "Authorization: Bearer <ADMIN_TOKEN>"', undefined, {
      'www-authenticate': 'Bearer',
    });
  }
  await next();
};
