/**
 * Structured logs: one JSON object per line, always with the epoch and, on the request path,
 * the request id, so a failover can be followed across the Worker and the coordinator with jq.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogFields {
  epoch?: number;
  request_id?: string;
  node?: string;
  [key: string]: unknown;
}

export function log(
  level: LogLevel,
  component: 'worker' | 'coordinator',
  msg: string,
  fields: LogFields = {},
): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}
