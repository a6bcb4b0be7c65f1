/**
 * The OpenAI-compatible embeddings API (ARCHITECTURE.md section 3): `POST /v1/embeddings` and
 * `GET /v1/models` (+ `/v1/models/:id`), so that the OpenAI SDKs and LangChain can embed with
 * the cluster's own model.
 *
 * - Keys as for search (http.ts requireSearchKey): one of API_KEYS or the admin token, unless
 *   the corpus is declared public.
 * - The vectors come from a node's `POST /api/v1/embed` (worker-node/routes/embed.ts): its
 *   embedder, the one its index was built with. The call is a read: any ready node, retried and
 *   hedged by reads.ts like a search.
 * - Every error, ours or a node's, leaves in OpenAI's shape `{"error": {message, type, code, param}}`.
 */
import { Hono } from 'hono';
import { LIMITS } from '../../shared/constants.ts';
import {
  decodeFloat32,
  type EmbeddingsResponse,
  EmbeddingsRequest,
  NodeEmbedAnswer,
} from '../../shared/embeddings.ts';
import { ApiError } from '../../shared/http-body.ts';
import { NodeInfo } from '../../shared/schemas.ts';
import { type AppContext, type AppEnv, EdgeError, readJsonBody, requireSearchKey } from '../http.ts';
import { log } from '../log.ts';
import { forwardRead } from '../reads.ts';

/** OpenAI's error `type` for a status. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

function openAiError(status: number, code: string, message: string, param?: string, headers?: HeadersInit) {
  return Response.json(
    { error: { message, type: errorType(status), code, param: param ?? null } },
    { status, ...(headers ? { headers } : {}) },
  );
}

/** A node's answer that is not a success, in OpenAI's shape with the node's status and code. */
async function relayedError(answer: Response): Promise<Response> {
  const body = (await answer.json().catch(() => null)) as {
    error?: { code?: string; message?: string; field?: string };
  } | null;
  const headers = new Headers(answer.headers);
  headers.delete('content-length');
  return openAiError(
    answer.status,
    body?.error?.code ?? `http_${answer.status}`,
    body?.error?.message ?? `the search node answered HTTP ${answer.status}`,
    body?.error?.field,
    headers,
  );
}

/** The routing headers reads.ts put on the node's answer (x-served-by, x-gte-epoch, attempts). */
function routingHeaders(answer: Response): Headers {
  const headers = new Headers(answer.headers);
  headers.delete('content-length');
  headers.set('content-type', 'application/json');
  return headers;
}

async function modelInfo(c: AppContext): Promise<{ answer: Response; model: NodeInfo['model'] | null }> {
  const answer = await forwardRead(c, { kind: 'embed', method: 'GET', path: '/api/v1/info', signed: false });
  if (answer.status !== 200) return { answer, model: null };
  const info = NodeInfo.safeParse(await answer.json());
  if (!info.success)
    throw new EdgeError(502, 'bad_node_answer', 'the search node answered /api/v1/info unexpectedly');
  return { answer, model: info.data.model };
}

/**
 * A batch takes the node longer than a search (up to 256 texts through the model on a CPU node):
 * each attempt gets a search's 1.5 s plus 50 ms a text, at most 15 s, and room for a second try.
 */
export function embedBudget(inputs: number): { attemptMs: number; deadlineMs: number } {
  const attemptMs = Math.min(15_000, 1500 + 50 * inputs);
  return { attemptMs, deadlineMs: 2 * attemptMs + 1000 };
}

const modelObject = (id: string) => ({ id, object: 'model' as const, created: 0, owned_by: 'gte-pro' });

export const embeddingsRoutes = new Hono<AppEnv>()
  .use('/v1/*', requireSearchKey)
  .post('/v1/embeddings', async (c) => {
    const { value } = await readJsonBody(c, EmbeddingsRequest, LIMITS.maxBodyBytes);
    const input = typeof value.input === 'string' ? [value.input] : value.input;
    const answer = await forwardRead(c, {
      kind: 'embed',
      method: 'POST',
      path: '/api/v1/embed',
      body: JSON.stringify({
        model: value.model,
        input,
        ...(value.dimensions !== undefined ? { dimensions: value.dimensions } : {}),
      }),
      signed: false,
      budget: embedBudget(input.length),
    });
    if (answer.status !== 200) return relayedError(answer);
    const parsed = NodeEmbedAnswer.safeParse(await answer.json());
    if (!parsed.success || parsed.data.vectors.length !== input.length)
      throw new EdgeError(502, 'bad_node_answer', 'the search node answered /api/v1/embed unexpectedly');
    const { vectors, tokens, model } = parsed.data;
    const total = tokens.reduce((sum, n) => sum + n, 0);
    const body: EmbeddingsResponse = {
      object: 'list',
      data: vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        // The node's bytes as they are, or their float32 values (exact in a JSON number).
        embedding: value.encoding_format === 'base64' ? vector : Array.from(decodeFloat32(vector)),
      })),
      model,
      usage: { prompt_tokens: total, total_tokens: total },
    };
    return new Response(JSON.stringify(body), { status: 200, headers: routingHeaders(answer) });
  })
  .get('/v1/models', async (c) => {
    const { answer, model } = await modelInfo(c);
    if (!model) return relayedError(answer);
    return c.json({ object: 'list', data: [modelObject(model.id)] });
  })
  // Model ids may hold a slash (gte-pro/glove-100d-demo): the rest of the path is the id.
  .get('/v1/models/:id{.+}', async (c) => {
    const { answer, model } = await modelInfo(c);
    if (!model) return relayedError(answer);
    const id = c.req.param('id');
    if (id !== model.id)
      return openAiError(
        404,
        'model_not_found',
        `The model '${id}' does not exist; this cluster serves '${model.id}'`,
        'model',
      );
    return c.json(modelObject(model.id));
  })
  .onError((error, c) => {
    if (error instanceof ApiError)
      return openAiError(
        error.status,
        error.code,
        error.message,
        error.field,
        error instanceof EdgeError ? error.headers : undefined,
      );
    log('error', 'worker', 'http.unhandled_error', { request_id: c.get('requestId'), error: String(error) });
    return openAiError(
      500,
      'internal_error',
      `unexpected error (request id ${c.get('requestId')}); it has been logged`,
    );
  });
