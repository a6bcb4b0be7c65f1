/**
 * The embeddings API: the edge's OpenAI-compatible `POST /v1/embeddings` and `GET /v1/models`
 * (ARCHITECTURE.md section 3) and the node's `POST /api/v1/embed` behind them (section 4).
 *
 * The node answers vectors as base64 of little-endian float32, the bytes its embedder produced:
 * the edge hands them on as they are (`encoding_format: "base64"`) or as the same float32 values
 * in a JSON array, so both encodings carry exactly the vectors the index uses.
 */
import { z } from 'zod';
import { LIMITS } from './constants.ts';

/** Inputs per call, as OpenAI's own limit on an array input is larger: the node's batch stays bounded. */
export const EMBED_MAX_INPUTS = 256;

const EmbedInput = z
  .string()
  .min(1, 'input must not be empty')
  .max(LIMITS.queryMaxChars, `input must be at most ${LIMITS.queryMaxChars} characters`);

/** OpenAI's request body; unknown fields are refused, as OpenAI refuses them. */
export const EmbeddingsRequest = z
  .object({
    model: z.string().min(1, 'model must not be empty').max(256),
    input: z.union([
      EmbedInput,
      z
        .array(EmbedInput)
        .min(1, 'input must hold at least one string')
        .max(EMBED_MAX_INPUTS, `input must hold at most ${EMBED_MAX_INPUTS} strings`),
    ]),
    encoding_format: z.enum(['float', 'base64']).default('float'),
    dimensions: z.number().int().min(1).optional(),
    user: z.string().max(256).optional(),
  })
  .strict();
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>;

export const EmbeddingsResponse = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type EmbeddingsResponse = z.infer<typeof EmbeddingsResponse>;

/** `GET /v1/models`: the one model every node of the cluster embeds with. */
export const ModelList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() }),
  ),
});

/** The node's `POST /api/v1/embed`: `model` and `dimensions` are checked against its embedder. */
export const NodeEmbedRequest = z
  .object({
    model: z.string().min(1).max(256).optional(),
    input: z.array(EmbedInput).min(1).max(EMBED_MAX_INPUTS),
    dimensions: z.number().int().min(1).optional(),
  })
  .strict();
export type NodeEmbedRequest = z.infer<typeof NodeEmbedRequest>;

export const NodeEmbedAnswer = z.object({
  model: z.string(),
  dimension: z.number().int(),
  /** One per input, in order: base64 of the little-endian float32 vector. */
  vectors: z.array(z.string()),
  /** Tokens per input as the embedder estimates them (embedder/tokenizer.ts), within the model's window. */
  tokens: z.array(z.number().int()),
});
export type NodeEmbedAnswer = z.infer<typeof NodeEmbedAnswer>;

/** base64 of little-endian float32 → the floats. Web APIs only: the edge runs it too. */
export function decodeFloat32(base64: string): Float32Array {
  const binary = atob(base64);
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out = new Float32Array(binary.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The floats → base64 of little-endian float32, whatever the machine's byte order. */
export function encodeFloat32(vector: Float32Array): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true);
  const bytes = new Uint8Array(view.buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
