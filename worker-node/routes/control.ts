/**
 * The coordinator's control calls (signed): activate, degrade, standby (role-control.ts), and the
 * diagnostics that go into its failover reports.
 */
import { Hono } from 'hono';
import { EpochBody, StandbyBody } from '../../shared/schemas.ts';
import type { SearchNode } from '../search-node.ts';
import { type NodeEnv, type Signed, signedJson } from './http.ts';

export function controlRoutes(node: SearchNode, signed: Signed) {
  const { roles } = node;
  return new Hono<NodeEnv>()
    .post('/api/v1/activate', signed, async (c) =>
      c.json(await roles.activate(signedJson(c, EpochBody).epoch)),
    )
    .post('/api/v1/degrade', signed, async (c) => c.json(await roles.degrade(signedJson(c, EpochBody).epoch)))
    .post('/api/v1/standby', signed, async (c) => {
      const body = signedJson(c, StandbyBody);
      return c.json(await roles.standby(body.epoch, body.master));
    })
    .get('/api/v1/diagnostics', signed, (c) => c.json(node.diagnostics()));
}
