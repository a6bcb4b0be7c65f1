/**
 * The node's structured logs: one JSON object per line on stdout, in the format both sides share
 * (shared/log.ts), always with the node id and epoch. `child(fields)` gives a logger whose lines
 * also carry those fields: the HTTP layer makes one per request with its `request_id`.
 */
import { formatLogLine, type LogFields as LineFields } from '../shared/log.ts';

export type LogFields = Record<string, unknown>;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

type Write = (event: string, fields?: LogFields) => void;

export interface NodeLogger {
  debug: Write;
  info: Write;
  warn: Write;
  error: Write;
  /** A logger that adds `fields` to every line (a request's id, a peer's name). */
  child(fields: LogFields): NodeLogger;
}

/** `base` is read at every line: the epoch changes while the node runs. */
export function createLogger(base: () => LineFields, minLevel: LogLevel = 'info'): NodeLogger {
  const make = (bound: LogFields): NodeLogger => {
    const write =
      (level: LogLevel): Write =>
      (event, fields = {}) => {
        if (LEVELS[level] < LEVELS[minLevel]) return;
        process.stdout.write(`${formatLogLine(level, 'node', event, { ...base(), ...bound, ...fields })}\n`);
      };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

/** Writes nothing: for parts run without a node around them (tests, one-off tools). */
export const silentLogger: NodeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
