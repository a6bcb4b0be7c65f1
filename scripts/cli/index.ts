/**
 * `gte-pro` entry: parse, find the edge, run one command, turn errors into one line that says
 * what to do. Exit codes: 0 ok, 1 the command ran and something failed (or the edge refused),
 * 2 a usage error.
 */
import { parseCli, UsageError, type CommandName } from './args.ts';
import { failoversCommand, searchCommand, statusCommand, switchoverCommand } from './commands/basic.ts';
import { drillCommand } from './commands/drill.ts';
import { ingestCommand } from './commands/ingest.ts';
import { resolveTarget } from './config.ts';
import type { CliIo, Command } from './context.ts';
import { EdgeClient } from './edge-client.ts';
import { CliError } from './errors.ts';

const COMMANDS: Record<CommandName, Command> = {
  status: statusCommand,
  search: searchCommand,
  ingest: ingestCommand,
  switchover: switchoverCommand,
  failovers: failoversCommand,
  drill: drillCommand,
};

const defaultIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const err = (text: string) => io.stderr.write(text);
  try {
    const parsed = parseCli(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return 0;
    }
    const v = parsed.values as { url?: string; token?: string; 'state-file'?: string };
    const target = resolveTarget({
      flags: { url: v.url, token: v.token, 'state-file': v['state-file'] },
      env: io.env,
    });
    return await COMMANDS[parsed.command]({
      client: new EdgeClient(target),
      positionals: parsed.positionals,
      values: parsed.values,
      io,
      out: (text) => io.stdout.write(text),
      err,
    });
  } catch (error) {
    if (error instanceof UsageError) {
      err(`gte-pro: ${error.message}\n${error.help ? `\n${error.help}` : 'see `gte-pro COMMAND --help`\n'}`);
      return 2;
    }
    if (error instanceof CliError) {
      err(`gte-pro: ${error.message}\n`);
      return error.exitCode;
    }
    err(`gte-pro: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
