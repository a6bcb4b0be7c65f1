/**
 * Command-line parsing for `gte-pro`: the command table, per-command options and help texts.
 * Pure (argv in, a parsed command or a UsageError out), so it is unit-tested without an edge.
 *
 *   parseCli(['search', 'reset password', '--top-k', '3'])
 *   // → { kind: 'run', command: 'search', positionals: ['reset password'], values: { 'top-k': '3', ... } }
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(
    message: string,
    readonly help: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type OptionSpec = { type: 'string' | 'boolean'; help: string; arg?: string };

export interface CommandSpec {
  name: CommandName;
  summary: string;
  /** e.g. `search QUERY`. */
  usage: string;
  positionals: { min: number; max: number };
  options: Record<string, OptionSpec>;
  /** Extra lines after the option list. */
  notes?: string;
}

export type CommandName = 'status' | 'search' | 'ingest' | 'switchover' | 'failovers' | 'drill';

/** Options every command takes: where the edge is and how to authenticate. */
export const CONNECTION_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string', arg: 'URL', help: 'edge URL (else --state-file, $GTE_URL, $GTE_STATE_FILE)' },
  token: {
    type: 'string',
    arg: 'TOKEN',
    help: 'admin token (else --state-file, $GTE_ADMIN_TOKEN, $GTE_STATE_FILE)',
  },
  'state-file': {
    type: 'string',
    arg: 'PATH',
    help: 'the state file `npm run cluster -- --state-file PATH` writes: edge URL, token and search key',
  },
  help: { type: 'boolean', help: 'show this help' },
};

export const COMMANDS: Record<CommandName, CommandSpec> = {
  status: {
    name: 'status',
    summary: 'nodes (role, state, lag, GPU), the epoch and the last failover',
    usage: 'status',
    positionals: { min: 0, max: 0 },
    options: { json: { type: 'boolean', help: 'print the edge answer as JSON' } },
  },
  search: {
    name: 'search',
    summary: 'semantic search through the edge',
    usage: 'search QUERY',
    positionals: { min: 1, max: 1 },
    options: {
      'top-k': { type: 'string', arg: 'N', help: 'results to return, 1..100 (default 5)' },
      filter: { type: 'string', arg: 'KEY=VALUE', help: 'exact metadata match; repeat for more keys' },
      json: { type: 'boolean', help: 'print the edge answer as JSON' },
    },
  },
  ingest: {
    name: 'ingest',
    summary: 'upsert the documents of a JSONL file, resumably',
    usage: 'ingest FILE.jsonl',
    positionals: { min: 1, max: 1 },
    options: {
      'batch-size': { type: 'string', arg: 'N', help: 'documents per request, 1..256 (default 256)' },
      wait: {
        type: 'string',
        arg: 'LEVEL',
        help: 'none | applied | replicated: when a batch counts as committed (default applied)',
      },
      restart: { type: 'boolean', help: 'ignore the checkpoint and start from line 1' },
    },
    notes: `Each line is one document: {"id": "...", "text": "...", "metadata": {...}}. Blank lines are skipped.
A bad line is reported with its number and reason and skipped; the rest go on. The exit code is 1
when any line failed. Progress (the last committed line) is kept under $XDG_STATE_HOME/gte-pro
(~/.local/state/gte-pro; GTE_STATE_DIR overrides it), never beside FILE, and removed once every
line is in: run the same command again after an interruption to resume, or when lines were appended.`,
  },
  switchover: {
    name: 'switchover',
    summary: 'planned, zero-error hand-over of the master role',
    usage: 'switchover',
    positionals: { min: 0, max: 0 },
    options: {
      to: {
        type: 'string',
        arg: 'NODE',
        help: 'the standby to promote (default: the most caught-up healthy standby)',
      },
      json: { type: 'boolean', help: 'print the report as JSON' },
    },
  },
  failovers: {
    name: 'failovers',
    summary: 'failover history, or one report with its timeline',
    usage: 'failovers [ID]',
    positionals: { min: 0, max: 1 },
    options: {
      limit: { type: 'string', arg: 'N', help: 'how many to list, 1..500 (default 20)' },
      json: { type: 'boolean', help: 'print the edge answer as JSON' },
    },
  },
  drill: {
    name: 'drill',
    summary: 'switchover drill under a light search load: failed requests, time to the new master',
    usage: 'drill',
    positionals: { min: 0, max: 0 },
    options: {
      to: { type: 'string', arg: 'NODE', help: 'the standby to promote (default: the edge chooses)' },
      concurrency: { type: 'string', arg: 'N', help: 'parallel search loops, 1..16 (default 2)' },
      'warmup-ms': { type: 'string', arg: 'MS', help: 'load before the switchover (default 2000)' },
      'settle-ms': { type: 'string', arg: 'MS', help: 'load after the new master serves (default 2000)' },
      'timeout-ms': {
        type: 'string',
        arg: 'MS',
        help: 'give up waiting for the new master after this (default 30000)',
      },
      json: { type: 'boolean', help: 'print the result as JSON' },
    },
    notes: 'Exit code 0 only when the switchover succeeded and no search failed.',
  },
};

export type ParsedCli =
  | { kind: 'help'; text: string }
  | {
      kind: 'run';
      command: CommandName;
      positionals: string[];
      values: Record<string, string | boolean | string[] | undefined>;
    };

function optionLines(options: Record<string, OptionSpec>): string {
  const rows = Object.entries(options).map(
    ([name, o]) => [`--${name}${o.arg ? ` ${o.arg}` : ''}`, o.help] as const,
  );
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join('\n');
}

export function globalHelp(): string {
  const names = Object.values(COMMANDS);
  const width = Math.max(...names.map((c) => c.name.length));
  return `usage: gte-pro COMMAND [options]   (npx gte-pro ...)

Operates a GTE-Pro cluster through its edge.

commands:
${names.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

connection (every command):
${optionLines(CONNECTION_OPTIONS)}

\`gte-pro COMMAND --help\` describes one command.
`;
}

export function commandHelp(spec: CommandSpec): string {
  return `usage: gte-pro ${spec.usage} [options]

${spec.summary}

options:
${optionLines(spec.options)}

connection:
${optionLines(CONNECTION_OPTIONS)}
${spec.notes ? `\n${spec.notes}\n` : ''}`;
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export function parseCli(argv: readonly string[]): ParsedCli {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic !== undefined && isCommand(topic)) return { kind: 'help', text: commandHelp(COMMANDS[topic]) };
    return { kind: 'help', text: globalHelp() };
  }
  if (!isCommand(first)) {
    throw new UsageError(
      `unknown command "${first}"; commands: ${Object.keys(COMMANDS).join(', ')}`,
      globalHelp(),
    );
  }
  const spec = COMMANDS[first];
  const help = commandHelp(spec);
  const options = Object.fromEntries(
    Object.entries({ ...CONNECTION_OPTIONS, ...spec.options }).map(([name, o]) => [
      name,
      { type: o.type, ...(name === 'filter' ? { multiple: true } : {}) },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages name the flag ("Unknown option '--topk'"); keep them, drop its own advice.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${first}: ${message}`, help);
  }
  if (parsed.values.help) return { kind: 'help', text: help };
  const { min, max } = spec.positionals;
  const got = parsed.positionals.length;
  if (got < min || got > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(
      `${first}: expected ${expected} argument(s) (${spec.usage}), got ${got}${got > 0 ? `: ${parsed.positionals.map((p) => JSON.stringify(p)).join(' ')}` : ''}`,
      help,
    );
  }
  return {
    kind: 'run',
    command: first,
    positionals: parsed.positionals,
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
  };
}

/** An integer option within [min, max], or the default when absent. */
export function intOption(
  values: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (
    typeof raw !== 'string' ||
    !/^-?\d+$/.test(raw.trim()) ||
    !Number.isSafeInteger(n) ||
    n < min ||
    n > max
  ) {
    throw new UsageError(
      `--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      '',
    );
  }
  return n;
}

/** `--filter KEY=VALUE` (repeatable) → `{metadata: {KEY: VALUE}}`; `true`/`false`/numbers keep their type. */
export function parseFilters(
  raw: readonly string[] | undefined,
): { metadata: Record<string, string | number | boolean> } | undefined {
  if (!raw || raw.length === 0) return undefined;
  const metadata: Record<string, string | number | boolean> = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq < 1) throw new UsageError(`--filter: expected KEY=VALUE, got ${JSON.stringify(item)}`, '');
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    metadata[key] =
      value === 'true'
        ? true
        : value === 'false'
          ? false
          : value !== '' && Number.isFinite(Number(value))
            ? Number(value)
            : value;
  }
  return { metadata };
}
