/**
 * A small client for a search node's private API, signing control calls the way the coordinator
 * does. Used by the local cluster, the benchmarks and the tests (never by the edge, which has its
 * own fetch path in workerd).
 */
import { signRequest } from '../../shared/signing.ts';

export interface NodeCallResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export class NodeClient {
  constructor(
    readonly url: string,
    private readonly secret: string,
    /** The node's id, which signed calls are bound to; learnt from /api/v1/info when not given. */
    private nodeId?: string,
  ) {}

  private async targetId(): Promise<string> {
    if (this.nodeId === undefined) {
      const info = await this.call<{ node?: string }>('GET', '/api/v1/info', undefined, { timeoutMs: 5000 });
      if (typeof info.body.node !== 'string') throw new Error(`${this.url}/api/v1/info names no node id`);
      this.nodeId = info.body.node;
    }
    return this.nodeId;
  }

  /** An unsigned call (search, health, info, metrics). */
  // biome-ignore lint/suspicious/noExplicitAny: callers (tests, bench) read whatever JSON a route answers
  async call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    init: { timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<NodeCallResult<T>> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${this.url}${path}`, {
      method,
      body: payload,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON (metrics) */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** A call signed with the cluster secret (documents, control calls, diagnostics). */
  // biome-ignore lint/suspicious/noExplicitAny: as for call()
  async signed<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts: { epoch?: number; timeoutMs?: number } = {},
  ): Promise<NodeCallResult<T>> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const pathname = path.split('?')[0]!;
    // The signature covers the target node and the epoch header (shared/signing.ts).
    const headers = await signRequest(this.secret, method, pathname, payload, {
      node: await this.targetId(),
      epoch: opts.epoch,
    });
    return this.call<T>(method, path, body === undefined ? undefined : payload, {
      headers,
      timeoutMs: opts.timeoutMs,
    });
  }

  health() {
    return this.call<import('../../shared/schemas.ts').NodeHealth>('GET', '/health', undefined, {
      timeoutMs: 2000,
    });
  }

  search(query: string, topK = 5, filter?: Record<string, unknown>) {
    return this.call<import('../../shared/schemas.ts').SearchResponse>('POST', '/api/v1/search', {
      query,
      top_k: topK,
      ...(filter ? { filter: { metadata: filter } } : {}),
    });
  }

  activate(epoch: number) {
    return this.signed<import('../../shared/schemas.ts').ActivateResult>('POST', '/api/v1/activate', {
      epoch,
    });
  }

  standby(epoch: number, master: string | null) {
    return this.signed('POST', '/api/v1/standby', { epoch, master });
  }

  degrade(epoch: number) {
    return this.signed('POST', '/api/v1/degrade', { epoch });
  }

  upsert(
    documents: { id: string; text: string; metadata?: Record<string, unknown> }[],
    epoch: number,
    wait: 'none' | 'applied' | 'replicated' = 'applied',
  ) {
    return this.signed('POST', '/api/v1/documents', { documents, wait }, { epoch, timeoutMs: 120_000 });
  }

  remove(id: string, epoch: number, wait: 'none' | 'applied' | 'replicated' = 'applied') {
    return this.signed('DELETE', `/api/v1/documents/${encodeURIComponent(id)}?wait=${wait}`, undefined, {
      epoch,
    });
  }
}
