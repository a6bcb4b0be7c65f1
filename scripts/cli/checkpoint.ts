/**
 * The resume point of `gte-pro ingest FILE`: the last committed line, a hash of the lines up to
 * it (so a changed file is noticed instead of silently skipped), and the lines that failed so far
 * (so a resumed run still reports them and exits non-zero).
 *
 * It lives in the CLI's state directory, never beside FILE (the user's folder stays as it was),
 * under a name keyed by FILE's absolute path. Written atomically (temp file + rename) after every
 * committed batch; removed when a run reaches the end of the file with no line failed.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CliError } from './errors.ts';

export const CHECKPOINT_SUFFIX = '.gte-progress';

export const LineFailure = z.object({ line: z.number().int().min(1), reason: z.string() });
export type LineFailure = z.infer<typeof LineFailure>;

export const Checkpoint = z.object({
  version: z.literal(1),
  /** Every line up to and including this one is committed, blank, or listed in `failed`. */
  committed_line: z.number().int().min(0),
  /** sha256 over lines 1..committed_line, each followed by "\n" (line endings normalised). */
  prefix_sha256: z.string(),
  failed: z.array(LineFailure),
  documents: z.number().int().min(0),
  updated_at: z.string(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** Overrides where the CLI keeps its state (the tests point it at a temporary folder). */
export const STATE_DIR_ENV = 'GTE_STATE_DIR';

/** `$GTE_STATE_DIR`, else `$XDG_STATE_HOME/gte-pro`, else `~/.local/state/gte-pro`. */
export function stateDir(env: Record<string, string | undefined>): string {
  const own = env[STATE_DIR_ENV];
  if (own) return resolve(own);
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'gte-pro');
}

/**
 * Where the checkpoint of `file` lives under `dir` (see stateDir): the file's name for whoever
 * looks, plus a hash of its absolute path so two `docs.jsonl` in different folders never meet.
 * Not keyed by size or mtime: appending to the file must resume, and a changed prefix is caught
 * by the line hash inside (resumeMismatch).
 */
export function checkpointPath(file: string, dir: string): string {
  const absolute = resolve(file);
  const key = createHash('sha256').update(absolute).digest('hex').slice(0, 16);
  return join(dir, 'ingest', `${basename(absolute)}.${key}${CHECKPOINT_SUFFIX}`);
}

/** Running hash of the lines read so far; `digest()` does not end it. */
export class PrefixHash {
  private hash: Hash = createHash('sha256');

  update(line: string): void {
    this.hash.update(line.replace(/\r$/, ''));
    this.hash.update('\n');
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

export function hashLines(lines: readonly string[]): string {
  const h = new PrefixHash();
  for (const l of lines) h.update(l);
  return h.digest();
}

export function emptyCheckpoint(): Checkpoint {
  return {
    version: 1,
    committed_line: 0,
    prefix_sha256: hashLines([]),
    failed: [],
    documents: 0,
    updated_at: new Date(0).toISOString(),
  };
}

/** The checkpoint at `path`, or null when there is none. A corrupt one is an error that says what to do. */
export function readCheckpoint(path: string): Checkpoint | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read the checkpoint ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = Checkpoint.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      `the checkpoint ${path} is unreadable; delete it, or run with --restart to ingest from line 1`,
    );
  return parsed.data;
}

export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(checkpoint)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
}

/**
 * After reading lines 1..checkpoint.committed_line of the file again: null when they are the
 * lines the checkpoint was written for, else why the run must not resume.
 */
export function resumeMismatch(
  checkpoint: Checkpoint,
  linesRead: number,
  prefixSha256: string,
  file: string,
): string | null {
  if (linesRead < checkpoint.committed_line) {
    return `${file} has ${linesRead} lines but its checkpoint says ${checkpoint.committed_line} were committed: the file changed; run with --restart to ingest it from line 1`;
  }
  if (prefixSha256 !== checkpoint.prefix_sha256) {
    return `${file} changed in lines 1..${checkpoint.committed_line} since its checkpoint was written; run with --restart to ingest it from line 1`;
  }
  return null;
}

/** The checkpoint after a committed batch: new position and hash, earlier failures plus new ones, sorted by line. */
export function advanceCheckpoint(
  previous: Checkpoint,
  update: { throughLine: number; prefixSha256: string; failed: LineFailure[]; documents: number },
  now: Date = new Date(),
): Checkpoint {
  if (update.throughLine < previous.committed_line)
    throw new RangeError(`checkpoint cannot move back (${previous.committed_line} → ${update.throughLine})`);
  const failed = new Map(previous.failed.map((f) => [f.line, f]));
  for (const f of update.failed) failed.set(f.line, f);
  return {
    version: 1,
    committed_line: update.throughLine,
    prefix_sha256: update.prefixSha256,
    failed: [...failed.values()].sort((a, b) => a.line - b.line),
    documents: previous.documents + update.documents,
    updated_at: now.toISOString(),
  };
}
