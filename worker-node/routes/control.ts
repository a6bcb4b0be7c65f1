/**
 * The coordinator's control calls (signed): activate, degrade, standby (role-control.ts), the
 * diagnostics that go into its failover reports, and forgetting a removed node.
 */
import { Hono } from 'hono';
import { ApiError } from '../../shared/http-body.ts';
import { EpochBody, RegisterNode, StandbyBody } from '../../shared/schemas.ts';
import { RedisUnavailableError } from '../errors.ts';
import type { SearchNode } from '../search-node.ts';
import { type NodeEnv, type Signed, signedJson } from './http.ts';

export function controlRoutes(node: SearchNode, signed: Signed) {
  const { roles } = node;
  return (
    new Hono<NodeEnv>()
      .post('/api/v1/activate', signed, async (c) =>
        c.json(await roles.activate(signedJson(c, EpochBody).epoch)),
      )
      .post('/api/v1/degrade', signed, async (c) =>
        c.json(await roles.degrade(signedJson(c, EpochBody).epoch)),
      )
      .post('/api/v1/standby', signed, async (c) => {
        const body = signedJson(c, StandbyBody);
        return c.json(await roles.standby(body.epoch, body.master));
      })
      .get('/api/v1/diagnostics', signed, (c) => c.json(node.diagnostics()))
      // An operator removed a node: trimming must stop waiting for its applied position, or the
      // log grows without bound. The edge calls this on the master; any node can do it.
      .delete('/api/v1/peers/:id', signed, async (c) => {
        const id = RegisterNode.shape.id.safeParse(c.req.param('id'));
        if (!id.success)
          throw new ApiError(400, 'invalid_request', `id: ${id.error.issues[0]?.message}`, 'id');
        // Its own applier would then go untracked and could be trimmed past while it runs.
        if (id.data === node.config.NODE_ID)
          throw new ApiError(409, 'is_self', `${id.data} is this node; remove it through another node`);
        await node.forgetPeer(id.data).catch((err: Error) => {
          throw new RedisUnavailableError(`could not remove ${id.data} from the trim set: ${err.message}`);
        });
        return c.json({ removed: id.data });
      })
  );
}
