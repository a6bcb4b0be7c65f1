/**
 * Documents and ingest jobs (token): writes to the master, signed and stamped with the epoch;
 * reads (one document, a job) from any ready node, master first.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { LIMITS } from '../../shared/constants.ts';
import { DocumentId, UpsertRequest } from '../../shared/schemas.ts';
import { pathParam, readJsonBody, requireToken, type AppEnv } from '../http.ts';
import { forwardRead, forwardWrite } from '../upstream.ts';

const JobId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:\-]+$/, 'job id may hold letters, digits, and . _ : -');

export const documentRoutes = new Hono<AppEnv>()
  .use('/api/v1/documents', requireToken)
  .use('/api/v1/documents/*', requireToken)
  .use('/api/v1/jobs/*', requireToken)
  .post('/api/v1/documents', async (c) => {
    const { value } = await readJsonBody(c, UpsertRequest, LIMITS.maxBodyBytes);
    return forwardWrite(c, { method: 'POST', path: '/api/v1/documents', body: JSON.stringify(value), signed: true });
  })
  .get('/api/v1/documents/:id', async (c) => {
    const id = pathParam(c, 'id', DocumentId);
    return forwardRead(c, { method: 'GET', path: `/api/v1/documents/${encodeURIComponent(id)}`, signed: true });
  })
  .delete('/api/v1/documents/:id', async (c) => {
    const id = pathParam(c, 'id', DocumentId);
    return forwardWrite(c, { method: 'DELETE', path: `/api/v1/documents/${encodeURIComponent(id)}`, signed: true });
  })
  .get('/api/v1/jobs/:id', async (c) => {
    const id = pathParam(c, 'id', JobId);
    return forwardRead(c, { method: 'GET', path: `/api/v1/jobs/${encodeURIComponent(id)}`, signed: true });
  });
