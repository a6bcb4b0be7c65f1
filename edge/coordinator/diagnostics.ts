/**
 * The old master's /api/v1/diagnostics as a failover report keeps it: parsed with the shared
 * schema (NodeDiagnostics), never cast. An answer that does not parse is recorded as such, with
 * the start of what was received, so a node on another version cannot break a report or a view.
 */
import { ReportDiagnostics } from '../../shared/edge-api.ts';
import { describeZodError } from '../../shared/errors.ts';
import { NodeDiagnostics } from '../../shared/schemas.ts';
import type { CallResult } from './node-client.ts';

/** How much of an answer that did not parse a report keeps. */
const RECEIVED_MAX_CHARS = 2000;

function unparsed(reason: string, body: unknown): ReportDiagnostics {
  const text = typeof body === 'string' ? body : (JSON.stringify(body) ?? String(body));
  return { unavailable: reason, received: text.slice(0, RECEIVED_MAX_CHARS) };
}

/** The node's answer (null: the node is no longer registered), as the report records it. */
export function readDiagnostics(result: CallResult | null): ReportDiagnostics {
  if (!result) return { unavailable: 'node no longer registered' };
  if (!result.ok) return { unavailable: result.detail };
  const parsed = NodeDiagnostics.safeParse(result.body);
  if (parsed.success) return parsed.data;
  return unparsed(`answer is not NodeDiagnostics (${describeZodError(parsed.error).message})`, result.body);
}

/** Records stored by an older edge kept the node's answer unparsed: they are read through the schema too. */
export function storedDiagnostics(stored: unknown): ReportDiagnostics | null {
  if (stored === null || stored === undefined) return null;
  const parsed = ReportDiagnostics.safeParse(stored);
  return parsed.success ? parsed.data : unparsed('stored answer is not NodeDiagnostics', stored);
}
