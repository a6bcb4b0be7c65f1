/**
 * The edge's structured logs: the Worker and the coordinator write one JSON object per line in
 * the shared format (shared/log.ts, the same keys as the search node), with the epoch and, on the
 * request path, the request id, so a failover can be followed across every process with jq.
 */
import { formatLogLine, type LogFields, type LogLevel } from '../shared/log.ts';

export type { LogFields, LogLevel };

export function log(
  level: LogLevel,
  component: 'worker' | 'coordinator',
  event: string,
  fields: LogFields = {},
): void {
  const line = formatLogLine(level, component, event, fields);
  if (level === 'error') console.error(line);
  else console.log(line);
}
