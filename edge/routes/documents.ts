/**
 * Documents and ingest jobs (token): writes to the master, signed and stamped with the epoch;
 * reads (one document, a job) from any ready node, master first.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { LIMITS } from '../../shared/constants.ts';
import { DocumentId, UpsertRequest, WaitLevel } from '../../shared/schemas.ts';
import { ApiError, pathParam, readJsonBody, requireToken, type AppEnv } from '../http.ts';
import { forwardRead } from '../reads.ts';
import { forwardWrite } from '../upstream.ts';

const JobId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'job id may hold letters, digits, and . _ : -');

export const documentRoutes = new Hono<AppEnv>()
  .use('/api/v1/documents', requireToken)
  .use('/api/v1/documents/*', requireToken)
  .use('/api/v1/jobs/*', requireToken)
  .post('/api/v1/documents', async (c) => {
    const { value } = await readJsonBody(c, UpsertRequest, LIMITS.maxBodyBytes);
    return forwardWrite(c, {
      method: 'POST',
      path: '/api/v1/documents',
      body: JSON.stringify(value),
      signed: true,
      operations: value.documents.length,
    });
  })
  .get('/api/v1/documents/:id', async (c) => {
    const id = pathParam(c, 'id', DocumentId);
    return forwardRead(c, {
      kind: 'document',
      method: 'GET',
      path: `/api/v1/documents/${encodeURIComponent(id)}`,
      signed: true,
    });
  })
  .delete('/api/v1/documents/:id', async (c) => {
    const id = pathParam(c, 'id', DocumentId);
    // The wait level travels as a query (a DELETE has no body), like on the node's own API.
    const wait = WaitLevel.safeParse(c.req.query('wait') ?? 'none');
    if (!wait.success)
      throw new ApiError(400, 'invalid_request', 'wait: must be none, applied or replicated', 'wait');
    return forwardWrite(c, {
      method: 'DELETE',
      path: `/api/v1/documents/${encodeURIComponent(id)}?wait=${wait.data}`,
      signed: true,
      operations: 1,
    });
  })
  .get('/api/v1/jobs/:id', async (c) => {
    const id = pathParam(c, 'id', JobId);
    return forwardRead(c, {
      kind: 'job',
      method: 'GET',
      path: `/api/v1/jobs/${encodeURIComponent(id)}`,
      signed: true,
    });
  });
