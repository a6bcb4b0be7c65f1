/** What every command gets: the edge client, its parsed arguments, and where to write. */
import type { EdgeClient } from './edge-client.ts';
import type { ProgressStream } from './progress.ts';

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface CommandContext {
  client: EdgeClient;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  io: CliIo;
  out(text: string): void;
  err(text: string): void;
}

/** A command's exit code: 0 done, 1 it ran but something failed (a line, a drill). */
export type Command = (ctx: CommandContext) => Promise<number>;
