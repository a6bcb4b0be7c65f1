/**
 * The one log line format, for the edge (edge/log.ts) and the search node alike: one JSON object
 * per line, with the same keys first on both sides, so that one `jq` filter follows a request or
 * a failover across the Worker, the coordinator and the nodes:
 *
 *   {"time","level","component","event","node"?,"epoch"?,"request_id"?, ...the other fields}
 *
 * node, epoch and request_id are left out when absent (undefined), never written as null.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogFields {
  node?: string;
  epoch?: number;
  request_id?: string;
  [key: string]: unknown;
}

/** The leading keys, in order; a field of the same name cannot move or overwrite them. */
const HEAD = ['time', 'level', 'component', 'event'] as const;
const CONTEXT = ['node', 'epoch', 'request_id'] as const;
const RESERVED: ReadonlySet<string> = new Set<string>([...HEAD, ...CONTEXT]);

export function formatLogLine(
  level: LogLevel,
  component: string,
  event: string,
  fields: LogFields = {},
  now: number = Date.now(),
): string {
  const line: Record<string, unknown> = { time: new Date(now).toISOString(), level, component, event };
  for (const key of CONTEXT) if (fields[key] !== undefined) line[key] = fields[key];
  for (const [key, value] of Object.entries(fields)) if (!RESERVED.has(key)) line[key] = value;
  return JSON.stringify(line);
}
