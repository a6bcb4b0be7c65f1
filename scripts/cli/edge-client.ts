/**
 * The CLI's only way out: HTTP calls to the edge's public API (ARCHITECTURE.md section 3).
 * Answers are validated with the shared zod schemas; failures become a CliError that says what
 * to do, or, for callers that retry (ingest, drill), an EdgeCallError that keeps the HTTP status.
 */
import { z } from 'zod';
import {
  ClusterStatus,
  FailoverReport,
  FailoverSummary,
  PublicClusterStatus,
  SwitchoverAnswer,
} from '../../shared/edge-api.ts';
import {
  SearchResponse,
  UpsertAccepted,
  type DocumentInput,
  type SearchRequest,
  type WaitLevel,
} from '../../shared/schemas.ts';
import type { Target } from './config.ts';
import { CliError } from './errors.ts';

/** A call that reached no answer (status 0) or a non-2xx answer. */
export class EdgeCallError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    /** The parsed answer body, when there was one. */
    readonly body: unknown = undefined,
  ) {
    super(message);
    this.name = 'EdgeCallError';
  }

  /** Worth retrying: no answer, a 5xx, a 409 (epoch moved during a failover) or 429. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 409 || this.status === 429;
  }
}

interface CallOptions<T extends z.ZodType> {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  /** true: the admin token, required; 'search': the search key (else the admin token); 'optional': the admin token if there is one. */
  auth?: boolean | 'search' | 'optional';
  schema: T;
  timeoutMs?: number;
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

export class EdgeClient {
  constructor(
    readonly target: Target,
    private readonly defaultTimeoutMs = 15_000,
  ) {}

  get url(): string {
    return this.target.url;
  }

  async call<T extends z.ZodType>(path: string, opts: CallOptions<T>): Promise<z.output<T>> {
    const method = opts.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json' };
    const searchKey = this.target.apiKey ?? this.target.token;
    if (opts.auth === 'search' && searchKey) headers.authorization = `Bearer ${searchKey}`;
    else if (opts.auth === 'optional' && this.target.token)
      headers.authorization = `Bearer ${this.target.token}`;
    else if (opts.auth === true) {
      if (!this.target.token)
        throw new CliError(
          `${method} ${path} needs the admin token: pass --token, set GTE_ADMIN_TOKEN, or pass --state-file PATH`,
        );
      headers.authorization = `Bearer ${this.target.token}`;
    }
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new EdgeCallError(
          `the edge at ${this.url} did not answer ${method} ${path} within ${timeoutMs / 1000} s; check it with \`gte-pro status\``,
          0,
          'timeout',
        );
      }
      throw new EdgeCallError(
        `no edge at ${this.url} (${networkReason(err)}; from ${this.target.source}): start one with \`npm run cluster -- --state-file PATH\`, or point --url / GTE_URL at a running edge`,
        0,
        'unreachable',
      );
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      /* reported below */
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = error?.code ?? `http_${response.status}`;
      const detail = error?.message ?? (text.slice(0, 200) || response.statusText);
      const hint =
        response.status === 401
          ? opts.auth === 'search'
            ? "; search needs a key: set GTE_API_KEY (one of the edge's API_KEYS), or pass --state-file or the admin token"
            : '; pass the cluster admin token with --token, GTE_ADMIN_TOKEN or --state-file'
          : response.status === 404 && (!error || error.message?.startsWith('no route'))
            ? `; is ${this.url} a GTE-Pro edge, as new as this CLI?`
            : '';
      throw new EdgeCallError(
        `${method} ${path}: HTTP ${response.status} ${code}: ${detail}${hint}`,
        response.status,
        code,
        json,
      );
    }
    if (json === undefined)
      throw new EdgeCallError(
        `${method} ${path}: the edge answered ${response.status} without a JSON body; is ${this.url} a GTE-Pro edge?`,
        response.status,
        'bad_answer',
      );
    const parsed = opts.schema.safeParse(json);
    if (!parsed.success) {
      throw new EdgeCallError(
        `${method} ${path}: unexpected answer shape (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); is the CLI as new as the edge?`,
        response.status,
        'bad_answer',
      );
    }
    return parsed.data;
  }

  /** The full status with the admin token; the public view (no node URLs, parts) without one. */
  status(): Promise<ClusterStatus | PublicClusterStatus> {
    return this.call('/api/v1/status', {
      auth: 'optional',
      schema: this.target.token ? ClusterStatus : PublicClusterStatus,
    });
  }

  search(
    body: Partial<SearchRequest> & { query: string },
    timeoutMs?: number,
  ): Promise<z.output<typeof SearchResponse>> {
    return this.call('/api/v1/search', {
      method: 'POST',
      auth: 'search',
      body,
      schema: SearchResponse,
      timeoutMs,
    });
  }

  upsert(documents: DocumentInput[], wait: WaitLevel): Promise<z.output<typeof UpsertAccepted>> {
    // wait=applied can take a while on a CPU node embedding 256 texts; the edge allows 30 s.
    return this.call('/api/v1/documents', {
      method: 'POST',
      auth: true,
      body: { documents, wait },
      schema: UpsertAccepted,
      timeoutMs: 45_000,
    });
  }

  /** The report, also when the switchover failed (the edge answers 502 with the report then). */
  async switchover(to?: string): Promise<FailoverReport> {
    try {
      // The edge runs the whole switchover (activate, verify with a canary, demote) before answering.
      const answer = await this.call('/api/v1/admin/switchover', {
        method: 'POST',
        auth: true,
        body: to ? { to } : {},
        schema: SwitchoverAnswer,
        timeoutMs: 60_000,
      });
      return answer.report;
    } catch (err) {
      const failed =
        err instanceof EdgeCallError && err.status === 502 ? SwitchoverAnswer.safeParse(err.body) : null;
      if (failed?.success) return failed.data.report;
      throw err;
    }
  }

  async failovers(limit: number): Promise<FailoverSummary[]> {
    const answer = await this.call(`/api/v1/failovers?limit=${limit}`, {
      auth: true,
      schema: z.object({ failovers: z.array(FailoverSummary) }),
    });
    return answer.failovers;
  }

  failover(id: string): Promise<FailoverReport> {
    return this.call(`/api/v1/failovers/${encodeURIComponent(id)}`, { auth: true, schema: FailoverReport });
  }
}
