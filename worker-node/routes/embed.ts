/**
 * POST /api/v1/embed: the vectors this node's embedder gives (the ones its index holds), for the
 * edge's OpenAI-compatible /v1/embeddings. Served in any role, like a search: embedding needs no
 * index, only the embedder, so a node whose data is behind can still answer it.
 */
import { Hono } from 'hono';
import { LIMITS } from '../../shared/constants.ts';
import { encodeFloat32, type NodeEmbedAnswer, NodeEmbedRequest } from '../../shared/embeddings.ts';
import { ApiError } from '../../shared/http-body.ts';
import { estimateTokens } from '../embedder/tokenizer.ts';
import type { SearchNode } from '../search-node.ts';
import { type NodeEnv, readNodeJson } from './http.ts';

export function embedRoutes(node: SearchNode) {
  return new Hono<NodeEnv>().post('/api/v1/embed', async (c) => {
    const req = await readNodeJson(c, NodeEmbedRequest, LIMITS.maxBodyBytes);
    if (node.stopping)
      throw new ApiError(503, 'stopping', 'this node is shutting down; retry on another node');
    const { model } = node.info();
    if (req.model !== undefined && req.model !== model.id)
      throw new ApiError(
        404,
        'model_not_found',
        `model ${JSON.stringify(req.model)} is not served here; this cluster embeds with ${JSON.stringify(model.id)} (GET /v1/models)`,
        'model',
      );
    if (req.dimensions !== undefined && req.dimensions !== model.dimension)
      throw new ApiError(
        400,
        'invalid_dimensions',
        `dimensions: ${model.id} has ${model.dimension} dimensions and cannot shorten its vectors; leave dimensions out or send ${model.dimension}`,
        'dimensions',
      );
    const vectors = await node.embed(req.input);
    const answer: NodeEmbedAnswer = {
      model: model.id,
      dimension: model.dimension,
      vectors: vectors.map(encodeFloat32),
      tokens: req.input.map((text) => estimateTokens(text, model.max_length)),
    };
    return c.json(answer);
  });
}
