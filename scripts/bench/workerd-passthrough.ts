/**
 * The floor under the edge: a Worker that only relays a request to one node, run in workerd
 * through Miniflare exactly as the edge is (scripts/cluster/edge.ts), so that the edge suite can
 * tell what workerd and Miniflare cost per request from what the edge's own code costs.
 */
import { Miniflare } from 'miniflare';
import { readWranglerConfig } from '../cluster/edge.ts';

const RELAY = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(env.UPSTREAM + url.pathname, {
      method: request.method,
      headers: { 'content-type': 'application/json' },
      body: request.body,
    });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
};`;

export interface PassThrough {
  url: string;
  stop(): Promise<void>;
}

export async function startPassThrough(upstream: string): Promise<PassThrough> {
  const mf = new Miniflare({
    modules: true,
    script: RELAY,
    compatibilityDate: readWranglerConfig().compatibilityDate,
    host: '127.0.0.1',
    port: 0,
    bindings: { UPSTREAM: upstream },
  });
  const url = (await mf.ready).origin;
  return { url, stop: () => mf.dispose() };
}
