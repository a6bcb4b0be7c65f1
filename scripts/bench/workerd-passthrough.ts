/**
 * The floor under the edge: a Worker that only relays a request to one node, run in workerd
 * through Miniflare exactly as the edge is (scripts/cluster/edge.ts), so that the edge suite can
 * tell what workerd and Miniflare cost per request from what the edge's own code costs, and
 * (through a second socket straight to the Worker) what Miniflare's entry worker, a local
 * development layer that production does not have, adds to that.
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
  /** Through Miniflare's entry worker, as the edge is served locally. */
  url: string;
  /** Straight to the Worker (Miniflare's unsafeDirectSockets): what the entry worker costs. */
  directUrl: string;
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
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  });
  const url = (await mf.ready).origin;
  const directUrl = (await mf.unsafeGetDirectURL()).origin;
  return { url, directUrl, stop: () => mf.dispose() };
}
