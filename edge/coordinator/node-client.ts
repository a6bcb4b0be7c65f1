/**
 * The coordinator's calls to one search node: the /health probe and the signed control calls.
 *
 * Every call has its own deadline (AbortSignal.timeout): a hung node must cost the probe loop
 * PROBE_TIMEOUT_MS, never the loop itself. Control calls are HMAC-signed with CLUSTER_SECRET
 * (shared/signing.ts) and carry the epoch in the body and in x-gte-epoch.
 */
import { HEADERS } from '../../shared/constants.ts';
import { ErrorBody, NodeHealth } from '../../shared/schemas.ts';
import { signRequest } from '../../shared/signing.ts';
import type { ProbeOutcome, Signal } from '../detector.ts';

export interface CallResult {
  ok: boolean;
  status: number | null;
  /** Parsed JSON body when there was one. */
  body: unknown;
  /** Short reason for logs and failover reports, e.g. "timeout after 500 ms", "HTTP 409: stale epoch". */
  detail: string;
}

/** Classifies a thrown fetch error: AbortSignal.timeout raises TimeoutError, anything else is a connect failure. */
export function failureOutcome(error: unknown): 'timeout' | 'connect_error' {
  const name = (error as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connect_error';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
}

/** GET /health with a deadline; turns the answer into one detector signal. */
export async function probeNode(
  url: string,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<Signal> {
  const started = now();
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await readJson(response);
    const latencyMs = now() - started;
    const parsed = NodeHealth.safeParse(body);
    const base = { at: now(), source: 'probe' as const, status: response.status, latencyMs };
    if (response.ok && parsed.success && parsed.data.ready)
      return { ...base, outcome: 'ok', health: parsed.data };
    // A valid health body that says "not ready" (200 or 503): alive but not routable (see detector.ts).
    if (parsed.success && !parsed.data.ready)
      return {
        ...base,
        outcome: 'not_ready',
        health: parsed.data,
        message: `not ready (${parsed.data.status})`,
      };
    const message = parsed.success
      ? `HTTP ${response.status}`
      : `HTTP ${response.status}, /health body is not NodeHealth`;
    return { ...base, outcome: 'http_error', message };
  } catch (error) {
    const outcome: ProbeOutcome = failureOutcome(error);
    const message =
      outcome === 'timeout' ? `timeout after ${timeoutMs} ms` : `connect error: ${errorText(error)}`;
    return { at: now(), source: 'probe', outcome, latencyMs: now() - started, message };
  }
}

export interface ControlCall {
  /** The node the call is for: signed into the call, so no other node accepts it. */
  node: string;
  url: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  epoch?: number;
  timeoutMs: number;
  secret: string;
  requestId?: string;
  signed?: boolean;
}

/** One control call; never throws (a dead node is an expected answer here). */
export async function callNode(call: ControlCall): Promise<CallResult> {
  const payload = call.body === undefined ? '' : JSON.stringify(call.body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // The epoch travels in x-gte-epoch, inside the signature (signRequest sets both headers).
  if (call.signed !== false)
    Object.assign(
      headers,
      await signRequest(call.secret, call.method, call.path, payload, { node: call.node, epoch: call.epoch }),
    );
  else if (call.epoch !== undefined) headers[HEADERS.epoch] = String(call.epoch);
  if (call.requestId) headers[HEADERS.requestId] = call.requestId;
  try {
    const response = await fetch(`${call.url}${call.path}`, {
      method: call.method,
      headers,
      ...(call.method === 'POST' ? { body: payload } : {}),
      signal: AbortSignal.timeout(call.timeoutMs),
    });
    const body = await readJson(response);
    const error = ErrorBody.safeParse(body);
    const message = error.success ? error.data.error.message : undefined;
    return {
      ok: response.ok,
      status: response.status,
      body,
      detail: response.ok
        ? `HTTP ${response.status}`
        : `HTTP ${response.status}${message ? `: ${message}` : ''}`,
    };
  } catch (error) {
    const outcome = failureOutcome(error);
    return {
      ok: false,
      status: null,
      body: null,
      detail:
        outcome === 'timeout' ? `timeout after ${call.timeoutMs} ms` : `connect error: ${errorText(error)}`,
    };
  }
}
