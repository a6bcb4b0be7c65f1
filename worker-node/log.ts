/** Structured logs: one JSON object per line on stdout, always with the node id and epoch. */

export type LogFields = Record<string, unknown>;
export type Logger = (event: string, fields?: LogFields) => void;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export function createLogger(base: () => LogFields, minLevel: LogLevel = 'info') {
  const write =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}) => {
      if (LEVELS[level] < LEVELS[minLevel]) return;
      process.stdout.write(
        `${JSON.stringify({ ts: new Date().toISOString(), level, event, ...base(), ...fields })}\n`,
      );
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
export type NodeLogger = ReturnType<typeof createLogger>;
