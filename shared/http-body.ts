/**
 * Reading a JSON request body safely, the same way on the edge and on the node: the size limit is
 * enforced while reading (a 10 MB body is refused after the first 64 KB, not after buffering it),
 * the content type must be JSON, invalid UTF-8 and malformed JSON are the caller's mistake, and
 * zod names the offending field. Every failure is an ApiError carrying its 4xx status.
 */
import type { z } from 'zod';
import { describeZodError, errorBody, type ApiErrorBody } from './errors.ts';

export class ApiError extends Error {
  // Typed `string` so that subclasses (the node's QueueFullError, the edge's EdgeError) name themselves.
  override readonly name: string = 'ApiError';

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toBody(): ApiErrorBody {
    return errorBody(this.code, this.message, this.field);
  }
}

/** Reads at most `maxBytes` of the body; throws 413 beyond that. */
export async function readBodyBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(413, 'body_too_large', `request body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ApiError(413, 'body_too_large', `request body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

// ignoreBOM spelled out: @cloudflare/workers-types declares it required (the edge type-checks this file too).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes and parses JSON bytes, then validates them; each step's failure is a 4xx ApiError. */
export function parseJsonBody<S extends z.ZodType>(
  contentType: string | null,
  bytes: Uint8Array,
  schema: S,
): z.output<S> {
  if (!contentType || !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `content-type must be application/json (got ${contentType ? JSON.stringify(contentType.slice(0, 80)) : 'none'})`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ApiError(400, 'invalid_utf8', 'request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(
      400,
      'invalid_json',
      `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`,
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    throw new ApiError(400, 'invalid_request', message, field || undefined);
  }
  return parsed.data;
}

/** Both steps at once: the usual way a handler reads its body. */
export async function readJson<S extends z.ZodType>(
  req: Request,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  return parseJsonBody(req.headers.get('content-type'), await readBodyBytes(req, maxBytes), schema);
}
