/**
 * Documents: upsert and delete (master only, stamped with the epoch: write-path.ts), and reading
 * one document back (any node whose data is open). All signed.
 */
import { Hono } from 'hono';
import { HEADERS } from '../../shared/constants.ts';
import { ApiError } from '../../shared/http-body.ts';
import { DocumentId, UpsertRequest, WaitLevel } from '../../shared/schemas.ts';
import type { SearchNode } from '../search-node.ts';
import { type NodeEnv, type Signed, signedJson } from './http.ts';

export function documentRoutes(node: SearchNode, signed: Signed) {
  const { writes } = node;
  return new Hono<NodeEnv>()
    .post('/api/v1/documents', signed, async (c) => {
      const req = signedJson(c, UpsertRequest);
      writes.admit(c.req.header(HEADERS.epoch));
      const seen = new Set<string>();
      for (const d of req.documents) {
        if (seen.has(d.id))
          throw new ApiError(
            400,
            'duplicate_id',
            `documents: id ${JSON.stringify(d.id)} appears twice in one request`,
            'documents',
          );
        seen.add(d.id);
      }
      const ops = req.documents.map((d) => ({
        op: 'upsert' as const,
        id: d.id,
        text: d.text,
        metadata: d.metadata ?? {},
      }));
      const out = await writes.write(ops, req.wait, { logger: c.get('log') });
      return c.json(out, out.status === 'queued' ? 202 : 200);
    })
    .delete('/api/v1/documents/:id', signed, async (c) => {
      const id = DocumentId.safeParse(c.req.param('id'));
      if (!id.success) throw new ApiError(400, 'invalid_request', `id: ${id.error.issues[0]?.message}`, 'id');
      writes.admit(c.req.header(HEADERS.epoch));
      const wait = WaitLevel.safeParse(c.req.query('wait') ?? 'none');
      if (!wait.success)
        throw new ApiError(400, 'invalid_request', 'wait: must be none, applied or replicated', 'wait');
      const out = await writes.write([{ op: 'delete', id: id.data }], wait.data, { logger: c.get('log') });
      return c.json(out, out.status === 'queued' ? 202 : 200);
    })
    .get('/api/v1/documents/:id', signed, (c) => {
      const id = c.req.param('id') ?? '';
      const doc = node.replica.getDocument(id);
      if (!doc) throw new ApiError(404, 'not_found', `no document with id ${JSON.stringify(id)}`);
      return c.json({
        id: doc.id,
        text: doc.text,
        metadata: doc.metadata,
        version: doc.version,
        updated_seq: doc.updated_seq,
      });
    });
}
