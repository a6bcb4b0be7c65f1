/**
 * `gte-pro ingest FILE.jsonl`: streams the file, validates each line, upserts batches of up to
 * 256 documents (wait=applied by default, so "committed" means in the change log and applied on
 * the master), and writes the checkpoint after every batch. A bad line is reported and skipped;
 * a batch the edge refuses is retried one document at a time so that the refusal lands on its
 * line; an unreachable edge or a failover in progress is retried, then the run stops with the
 * checkpoint in place, to be resumed by the same command.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { WaitLevel, type DocumentInput } from '../../../shared/schemas.ts';
import { intOption, UsageError } from '../args.ts';
import {
  advanceCheckpoint,
  checkpointPath,
  emptyCheckpoint,
  PrefixHash,
  readCheckpoint,
  removeCheckpoint,
  stateDir,
  resumeMismatch,
  writeCheckpoint,
  type Checkpoint,
  type LineFailure,
} from '../checkpoint.ts';
import { requireAdminToken } from '../config.ts';
import type { Command, CommandContext } from '../context.ts';
import { EdgeCallError, type EdgeClient } from '../edge-client.ts';
import { CliError } from '../errors.ts';
import { Batcher, parseJsonlLine, type Batch, type BatchItem } from '../jsonl.ts';
import { ProgressBar } from '../progress.ts';

/** Retries of a batch when the edge is unreachable, answers 5xx or 409 (a failover moving the epoch). */
const TRANSIENT_RETRIES = 6;
const RETRY_BASE_MS = 500;

async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return last === 0x0a ? lines : lines + 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Upserts with retries on transient failures; a refusal (4xx) is thrown at once. */
async function upsertWithRetry(
  client: EdgeClient,
  documents: DocumentInput[],
  wait: WaitLevel,
  onRetry: (msg: string) => void,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.upsert(documents, wait);
      return;
    } catch (err) {
      if (!(err instanceof EdgeCallError) || !err.transient || attempt >= TRANSIENT_RETRIES) throw err;
      const delay = Math.min(8000, RETRY_BASE_MS * 2 ** attempt);
      onRetry(`${err.message}; retrying in ${formatSeconds(delay)}`);
      await sleep(delay);
    }
  }
}

const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Sends one batch; returns the lines the edge refused. Throws when the edge cannot be reached. */
async function sendBatch(
  client: EdgeClient,
  items: BatchItem[],
  wait: WaitLevel,
  onRetry: (msg: string) => void,
): Promise<LineFailure[]> {
  try {
    await upsertWithRetry(
      client,
      items.map((i) => i.document),
      wait,
      onRetry,
    );
    return [];
  } catch (err) {
    if (!(err instanceof EdgeCallError) || err.transient || err.status === 401 || err.status === 403)
      throw err;
    if (items.length === 1) return [{ line: items[0]!.line, reason: `refused by the edge: ${err.message}` }];
  }
  // The edge refused the batch as a whole: find the line(s) it objects to, one document at a time.
  const failures: LineFailure[] = [];
  for (const item of items) failures.push(...(await sendBatch(client, [item], wait, onRetry)));
  return failures;
}

interface Run {
  ctx: CommandContext;
  file: string;
  cpPath: string;
  checkpoint: Checkpoint;
  bar: ProgressBar;
  /** Line-level failures found while parsing, not yet in a committed checkpoint. */
  pending: LineFailure[];
  newFailures: number;
  newDocuments: number;
}

function reportFailure(run: Run, failure: LineFailure): void {
  run.bar.interrupt();
  run.ctx.err(`${run.file}:${failure.line}: ${failure.reason}\n`);
  run.newFailures++;
}

async function commit(run: Run, batch: Batch, prefixSha256: string, wait: WaitLevel): Promise<void> {
  const { client } = run.ctx;
  const onRetry = (msg: string) => {
    run.bar.interrupt();
    run.ctx.err(`ingest: ${msg}\n`);
  };
  let refused: LineFailure[] = [];
  try {
    refused = batch.items.length > 0 ? await sendBatch(client, batch.items, wait, onRetry) : [];
  } catch (err) {
    run.bar.done();
    const where =
      run.checkpoint.committed_line > 0
        ? `lines 1..${run.checkpoint.committed_line} are committed (checkpoint ${run.cpPath})`
        : 'nothing was committed';
    throw new CliError(
      `ingest stopped at lines ${batch.items[0]?.line}..${batch.throughLine}: ${(err as Error).message}\n${where}; run the same command again to resume`,
    );
  }
  for (const f of refused) reportFailure(run, f);
  const parseFailures = run.pending.filter((f) => f.line <= batch.throughLine);
  run.pending = run.pending.filter((f) => f.line > batch.throughLine);
  const committed = batch.items.length - refused.length;
  run.newDocuments += committed;
  run.checkpoint = advanceCheckpoint(run.checkpoint, {
    throughLine: batch.throughLine,
    prefixSha256,
    failed: [...parseFailures, ...refused],
    documents: committed,
  });
  writeCheckpoint(run.cpPath, run.checkpoint);
}

export const ingestCommand: Command = async (ctx) => {
  const { client, values, positionals, io } = ctx;
  const file = resolve(io.cwd, positionals[0]!);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new CliError(`no file ${file}: pass a JSONL file, one {"id","text","metadata"?} object per line`);
  const batchSize = intOption(values, 'batch-size', 1, 256, 256);
  const waitParsed = WaitLevel.safeParse(values.wait ?? 'applied');
  if (!waitParsed.success)
    throw new UsageError(
      `--wait: expected none, applied or replicated, got ${JSON.stringify(values.wait)}`,
      '',
    );
  const wait = waitParsed.data;
  requireAdminToken(client.target, 'ingest');

  const cpPath = checkpointPath(file, stateDir(io.env));
  if (values.restart) removeCheckpoint(cpPath);
  const previous = readCheckpoint(cpPath);
  const total = await countLines(file);
  const run: Run = {
    ctx,
    file,
    cpPath,
    checkpoint: previous ?? emptyCheckpoint(),
    bar: new ProgressBar(io.stderr, 'ingest', total),
    pending: [],
    newFailures: 0,
    newDocuments: 0,
  };
  const resumeAfter = run.checkpoint.committed_line;
  if (previous) {
    ctx.err(
      `ingest: resuming ${file} after line ${resumeAfter} (checkpoint ${cpPath}; --restart starts over)\n`,
    );
  }
  // Fail fast on a wrong URL or token, before reading a large file.
  await client.status();

  const hash = new PrefixHash();
  const batcher = new Batcher(batchSize);
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    if (lineNo <= resumeAfter) {
      hash.update(raw);
      if (lineNo === resumeAfter) {
        const mismatch = resumeMismatch(run.checkpoint, lineNo, hash.digest(), file);
        if (mismatch) throw new CliError(mismatch);
      }
      continue;
    }
    const parsed = parseJsonlLine(raw);
    if (parsed.kind === 'error') {
      const failure = { line: lineNo, reason: parsed.reason };
      run.pending.push(failure);
      reportFailure(run, failure);
    }
    const batch = batcher.add(lineNo, parsed);
    // A batch closed by a repeated id ends on the line before this one: hash before adding it.
    const before = batch && batch.throughLine < lineNo ? hash.digest() : null;
    hash.update(raw);
    if (batch) {
      await commit(run, batch, before ?? hash.digest(), wait);
      run.bar.update(
        batch.throughLine,
        `${run.checkpoint.documents} documents, ${run.checkpoint.failed.length} failed`,
      );
    }
  }
  if (lineNo < resumeAfter) throw new CliError(resumeMismatch(run.checkpoint, lineNo, hash.digest(), file)!);
  const last = batcher.finish();
  if (last) {
    await commit(run, last, hash.digest(), wait);
    run.bar.update(
      last.throughLine,
      `${run.checkpoint.documents} documents, ${run.checkpoint.failed.length} failed`,
    );
  }
  run.bar.done();

  const failed = run.checkpoint.failed;
  // The whole file is in: nothing to resume. Failed lines keep it, so a rerun still reports them.
  if (failed.length === 0) removeCheckpoint(cpPath);
  const summary =
    resumeAfter >= lineNo
      ? `nothing new to ingest: all ${lineNo} lines of ${file} were committed earlier (checkpoint ${cpPath}; --restart ingests it again)`
      : `ingested ${run.newDocuments} document(s) from lines ${resumeAfter + 1}..${lineNo} of ${file} (wait=${wait})`;
  ctx.out(`${summary}\n`);
  if (failed.length > 0) {
    ctx.out(
      `${failed.length} line(s) failed${run.newFailures < failed.length ? ` (${failed.length - run.newFailures} in an earlier run)` : ''}:\n`,
    );
    for (const f of failed) ctx.out(`  line ${f.line}: ${f.reason}\n`);
    ctx.out(
      `fix them and ingest again with --restart (upserts are idempotent), or ingest just those lines from another file\n`,
    );
    return 1;
  }
  return 0;
};
