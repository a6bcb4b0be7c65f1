/**
 * GET /openapi.json: the public API described from the same zod schemas that validate it
 * (zod 4's z.toJSONSchema), so the document cannot drift from the code.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import {
  ClusterStatus,
  EdgeHealth,
  FailoverReport,
  FailoverSummary,
  PublicClusterStatus,
} from '../../shared/edge-api.ts';
import { EmbeddingsRequest, EmbeddingsResponse, ModelList } from '../../shared/embeddings.ts';
import {
  ErrorBody,
  JobState,
  RegisterNode,
  SearchRequest,
  SearchResponse,
  StoredDocument,
  SwitchoverRequest,
  UpsertAccepted,
  UpsertRequest,
} from '../../shared/schemas.ts';
import { VERSION } from '../../shared/version.ts';
import type { AppEnv } from '../http.ts';

const SCHEMAS: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  SearchRequest: { schema: SearchRequest, io: 'input' },
  SearchResponse: { schema: SearchResponse, io: 'output' },
  UpsertRequest: { schema: UpsertRequest, io: 'input' },
  UpsertAccepted: { schema: UpsertAccepted, io: 'output' },
  JobState: { schema: JobState, io: 'output' },
  StoredDocument: { schema: StoredDocument, io: 'output' },
  RegisterNode: { schema: RegisterNode, io: 'input' },
  SwitchoverRequest: { schema: SwitchoverRequest, io: 'input' },
  EdgeHealth: { schema: EdgeHealth, io: 'output' },
  ClusterStatus: { schema: ClusterStatus, io: 'output' },
  PublicClusterStatus: { schema: PublicClusterStatus, io: 'output' },
  EmbeddingsRequest: { schema: EmbeddingsRequest, io: 'input' },
  EmbeddingsResponse: { schema: EmbeddingsResponse, io: 'output' },
  ModelList: { schema: ModelList, io: 'output' },
  FailoverSummary: { schema: FailoverSummary, io: 'output' },
  FailoverReport: { schema: FailoverReport, io: 'output' },
  Error: { schema: ErrorBody, io: 'output' },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const errors = {
  '400': json('Error', 'invalid JSON or a field out of range (the error names it)'),
  '413': json('Error', 'body too large'),
  '415': json('Error', 'content-type is not application/json'),
};
const auth = {
  security: [{ bearer: [] }],
  responses401: { '401': json('Error', 'missing or wrong Bearer token') },
};
/** Search and embeddings: one of API_KEYS or the admin token, unless PUBLIC_SEARCH = "true". */
const keyed = {
  security: [{ bearer: [] }, {}],
  responses401: { '401': json('Error', 'missing or wrong key (WWW-Authenticate: Bearer)') },
};
const idParam = (name: string) => [{ name, in: 'path', required: true, schema: { type: 'string' } }];

function buildDocument() {
  const components: Record<string, unknown> = {};
  for (const [name, { schema, io }] of Object.entries(SCHEMAS)) {
    const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    components[name] = jsonSchema;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'GTE-Pro edge API',
      version: VERSION,
      description: 'Semantic search that keeps answering when a GPU node dies.',
    },
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/api/v1/search': {
        post: {
          summary: 'Search (a key unless PUBLIC_SEARCH = "true"; any in-sync node, retried and hedged)',
          security: keyed.security,
          requestBody: { required: true, content: { 'application/json': { schema: ref('SearchRequest') } } },
          responses: {
            '200': json(
              'SearchResponse',
              'one result per document, with its best passage (text, start, end); headers x-served-by, x-gte-epoch, x-gte-attempts',
            ),
            ...errors,
            ...keyed.responses401,
            '503': json('Error', 'no node can serve'),
          },
        },
      },
      '/health': {
        get: {
          summary: 'Edge health',
          responses: {
            '200': json('EdgeHealth', 'a healthy master serves'),
            '503': json('EdgeHealth', 'no healthy master'),
          },
        },
      },
      '/api/v1/status': {
        get: {
          summary: 'Cluster status (node URLs and internals only with the admin token)',
          responses: {
            '200': {
              description: 'nodes, roles, lag, last failover; PublicClusterStatus without the admin token',
              content: {
                'application/json': { schema: { oneOf: [ref('ClusterStatus'), ref('PublicClusterStatus')] } },
              },
            },
          },
        },
      },
      '/api/v1/documents': {
        post: {
          summary: 'Upsert documents (master only)',
          security: auth.security,
          requestBody: { required: true, content: { 'application/json': { schema: ref('UpsertRequest') } } },
          responses: {
            '200': json('UpsertAccepted', 'wait level reached'),
            '202': json(
              'UpsertAccepted',
              'queued; or accepted but not at the wait level within the node deadline (message says why; poll the job)',
            ),
            ...errors,
            ...auth.responses401,
            '503': json('Error', 'no master'),
          },
        },
      },
      '/api/v1/documents/{id}': {
        get: {
          summary: 'One document',
          security: auth.security,
          parameters: idParam('id'),
          responses: {
            '200': json('StoredDocument', 'the document'),
            '404': json('Error', 'unknown id'),
            ...auth.responses401,
          },
        },
        delete: {
          summary: 'Delete a document (replicated like an upsert)',
          security: auth.security,
          parameters: [
            ...idParam('id'),
            {
              name: 'wait',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['none', 'applied', 'replicated'], default: 'none' },
            },
          ],
          responses: {
            '200': json('UpsertAccepted', 'wait level reached'),
            '202': json('UpsertAccepted', 'queued'),
            ...auth.responses401,
          },
        },
      },
      '/api/v1/jobs/{id}': {
        get: {
          summary: 'Ingest job state',
          security: auth.security,
          parameters: idParam('id'),
          responses: { '200': json('JobState', 'job'), ...auth.responses401 },
        },
      },
      '/api/v1/failovers': {
        get: {
          summary: 'Failover summaries, newest first',
          security: auth.security,
          responses: { '200': { description: '{"failovers": FailoverSummary[]}' }, ...auth.responses401 },
        },
      },
      '/api/v1/failovers/{id}': {
        get: {
          summary: 'One failover report',
          security: auth.security,
          parameters: idParam('id'),
          responses: {
            '200': json('FailoverReport', 'report'),
            '404': json('Error', 'unknown id'),
            ...auth.responses401,
          },
        },
      },
      '/api/v1/admin/switchover': {
        post: {
          summary: 'Planned, zero-error hand-over',
          security: auth.security,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('SwitchoverRequest') } },
          },
          responses: {
            '200': { description: '{"report": FailoverReport}' },
            '409': json('Error', 'not possible now (reason given)'),
            ...auth.responses401,
          },
        },
      },
      '/api/v1/admin/nodes': {
        post: {
          summary: 'Register or update a node',
          security: auth.security,
          requestBody: { required: true, content: { 'application/json': { schema: ref('RegisterNode') } } },
          responses: {
            '201': { description: 'registered' },
            '200': { description: 'updated' },
            ...errors,
            ...auth.responses401,
          },
        },
      },
      '/api/v1/admin/nodes/{id}': {
        delete: {
          summary: 'Remove a node (not the master)',
          security: auth.security,
          parameters: idParam('id'),
          responses: {
            '200': { description: 'removed' },
            '404': json('Error', 'unknown'),
            '409': json('Error', 'is the master'),
            ...auth.responses401,
          },
        },
      },
      '/v1/embeddings': {
        post: {
          summary: 'OpenAI-compatible embeddings: the vectors the index uses (errors in OpenAI shape)',
          security: keyed.security,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('EmbeddingsRequest') } },
          },
          responses: {
            '200': json(
              'EmbeddingsResponse',
              'one embedding per input, float or base64 (little-endian float32)',
            ),
            '400': { description: "invalid body, or dimensions other than the model's" },
            '404': { description: 'another model than the one the cluster serves' },
            '401': { description: 'missing or wrong key' },
          },
        },
      },
      '/v1/models': {
        get: {
          summary: 'The model the cluster embeds with',
          security: keyed.security,
          responses: {
            '200': json('ModelList', 'one model'),
            '401': { description: 'missing or wrong key' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'text/plain; version=0.0.4' } },
        },
      },
      '/status': {
        get: { summary: 'Human status page', responses: { '200': { description: 'text/html' } } },
      },
    },
  };
}

let document: ReturnType<typeof buildDocument> | null = null;

export const openapiRoutes = new Hono<AppEnv>().get('/openapi.json', (c) => {
  document ??= buildDocument();
  return c.json(document);
});
