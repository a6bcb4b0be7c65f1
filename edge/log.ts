/**
 * The edge's structured logs: the Worker and the coordinator write one JSON object per line in
 * the shared format (shared/log.ts, the same keys as the search node), with the epoch and, on the
 * request path, the request id, so a failover can be followed across every process with jq.
 *
 * LOG_LEVEL (wrangler.toml [vars], as on the node) drops lines below it: at "warn" the access
 * line of every request is not written, which on a busy isolate is a large share of its work.
 */
import { formatLogLine, type LogFields, type LogLevel } from '../shared/log.ts';

export type { LogFields, LogLevel };

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

let minimum: LogLevel = 'debug';

/** Sets the level from the LOG_LEVEL var; anything else (unset, misspelt) logs everything. */
export function setLogLevel(level: unknown): void {
  minimum = typeof level === 'string' && level in RANK ? (level as LogLevel) : 'debug';
}

export function logs(level: LogLevel): boolean {
  return RANK[level] >= RANK[minimum];
}

export function log(
  level: LogLevel,
  component: 'worker' | 'coordinator',
  event: string,
  fields: LogFields = {},
): void {
  if (!logs(level)) return;
  const line = formatLogLine(level, component, event, fields);
  if (level === 'error') console.error(line);
  else console.log(line);
}
