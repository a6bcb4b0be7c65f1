/**
 * Where the edge is and which token to send: --url / --token, then --state-file, then $GTE_URL /
 * $GTE_ADMIN_TOKEN, then $GTE_STATE_FILE. The search key comes from the state file's api_key
 * or $GTE_API_KEY; without one, search sends the admin token (the edge accepts either). Pure apart from reading the state file,
 * which is passed in, so the precedence is unit-tested.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CliError } from './errors.ts';

/** The part of the cluster's state file (ARCHITECTURE.md section 9) the CLI reads. */
const StateFile = z.object({
  edge_url: z.string().url(),
  admin_token: z.string().min(1),
  api_key: z.string().min(1).optional(),
});

export interface Target {
  url: string;
  token: string | null;
  /** The search key (one of the edge's API_KEYS); null when none was given. */
  apiKey: string | null;
  /** Where the URL came from, for error messages ("--url", "GTE_URL", "state file PATH"). */
  source: string;
}

export interface TargetInputs {
  flags: { url?: string; token?: string; 'state-file'?: string };
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

const HOW =
  'pass --url URL (and --token TOKEN), set GTE_URL and GTE_ADMIN_TOKEN, or pass --state-file PATH from `npm run cluster -- --state-file PATH`';

function readStateFile(path: string, readFile: (path: string) => string): z.infer<typeof StateFile> {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new CliError(
        `no state file at ${path}: start a cluster with \`npm run cluster -- --state-file ${path}\` (it writes the file once the cluster is ready)`,
      );
    throw new CliError(`cannot read the state file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(
      `the state file ${path} is not JSON; it should be the file \`npm run cluster -- --state-file PATH\` writes`,
    );
  }
  const parsed = StateFile.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      `the state file ${path} has no edge_url / admin_token; it should be the file \`npm run cluster -- --state-file PATH\` writes`,
    );
  return parsed.data;
}

export function resolveTarget({
  flags,
  env,
  readFile = (p) => readFileSync(p, 'utf8'),
}: TargetInputs): Target {
  // Explicit beats ambient: flags, then the --state-file, then GTE_URL / GTE_ADMIN_TOKEN, then $GTE_STATE_FILE.
  const flagState = flags['state-file'] ? readStateFile(flags['state-file'], readFile) : null;
  const envStatePath = env.GTE_STATE_FILE;
  const envState = () => (envStatePath ? readStateFile(envStatePath, readFile) : null);
  let url: string | null = null;
  let source = '';
  if (flags.url) [url, source] = [flags.url, '--url'];
  else if (flagState) [url, source] = [flagState.edge_url, `state file ${flags['state-file']}`];
  else if (env.GTE_URL) [url, source] = [env.GTE_URL, 'GTE_URL'];
  else if (envStatePath)
    [url, source] = [envState()!.edge_url, `state file ${envStatePath} (GTE_STATE_FILE)`];
  if (!url) throw new CliError(`no edge URL: ${HOW}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      `${source}: ${JSON.stringify(url)} is not a URL (expected e.g. http://127.0.0.1:8787)`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`${source}: expected an http(s) URL, got ${url}`);
  const token =
    flags.token ||
    flagState?.admin_token ||
    env.GTE_ADMIN_TOKEN ||
    (envStatePath && !flags.url ? envState()?.admin_token : undefined) ||
    null;
  const apiKey =
    flagState?.api_key ||
    env.GTE_API_KEY ||
    (envStatePath && !flags.url ? envState()?.api_key : undefined) ||
    null;
  return { url: url.replace(/\/+$/, ''), token, apiKey, source };
}

/** The token, or an error that says how to give one. */
export function requireAdminToken(target: Target, command: string): string {
  if (target.token) return target.token;
  throw new CliError(
    `${command} needs the admin token: pass --token TOKEN, set GTE_ADMIN_TOKEN, or pass --state-file PATH (its admin_token)`,
  );
}
