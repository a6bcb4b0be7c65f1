/**
 * JSONL documents for `gte-pro ingest`: one line → one document or one reason it is not, and the
 * lines grouped into upsert batches. Pure, so every rule is unit-tested without a file or an edge.
 *
 * Lines are validated with the same schema the edge uses (shared/schemas.ts DocumentInput), so a
 * bad line is reported here with its number instead of failing a whole batch of 256 at the edge.
 */
import { describeZodError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/constants.ts';
import { DocumentInput } from '../../shared/schemas.ts';

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'document'; document: DocumentInput }
  | { kind: 'error'; reason: string };

/** One line of the file (without its newline). A leading BOM and a trailing CR are ignored. */
export function parseJsonlLine(raw: string): ParsedLine {
  const text = raw.replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (text.trim() === '') return { kind: 'blank' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { kind: 'error', reason: `not valid JSON (${(err as Error).message})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return {
      kind: 'error',
      reason: `expected a JSON object {"id", "text", "metadata"?}, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`,
    };
  }
  const parsed = DocumentInput.safeParse(json);
  if (!parsed.success) return { kind: 'error', reason: describeZodError(parsed.error).message };
  return { kind: 'document', document: parsed.data };
}

export interface BatchItem {
  line: number;
  document: DocumentInput;
}

/** A batch to upsert, and the file line up to which everything is in it or in an earlier one. */
export interface Batch {
  items: BatchItem[];
  /** Every line <= throughLine is in this batch, an earlier batch, blank or a reported error. */
  throughLine: number;
}

/**
 * Groups documents into batches of at most `maxSize`, in file order. A document whose id is
 * already in the open batch closes it first (the node refuses a request that names an id twice,
 * and the later line must win). Feed every line, documents or not, so `throughLine` advances;
 * `finish` returns the last batch (possibly without items, when the file ended in blank or bad lines).
 *
 *   const b = new Batcher(256);
 *   for (...) { const full = b.add(line, parsed); if (full) await send(full); }
 *   const last = b.finish(); if (last) await send(last);
 */
export class Batcher {
  private items: BatchItem[] = [];
  private ids = new Set<string>();
  /** The newest line fed in, and the throughLine of the newest batch handed out. */
  private lastLine = 0;
  private closedThrough = 0;

  constructor(private readonly maxSize: number = LIMITS.docsPerRequest) {
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > LIMITS.docsPerRequest)
      throw new RangeError(`batch size must be 1..${LIMITS.docsPerRequest}`);
  }

  /** Adds line `line` (lines in increasing order); returns a batch to send when this line closed one. */
  add(line: number, parsed: ParsedLine): Batch | null {
    // A repeated id closes the batch before this line, which then opens the next one. At most one
    // batch closes per call: with maxSize 1 every batch closes on its own line, so no id repeats.
    const closed =
      parsed.kind === 'document' && this.ids.has(parsed.document.id) ? this.close(this.lastLine) : null;
    this.lastLine = line;
    if (parsed.kind !== 'document') return closed;
    this.items.push({ line, document: parsed.document });
    this.ids.add(parsed.document.id);
    return this.items.length >= this.maxSize ? this.close(line) : closed;
  }

  /** The open batch, or null when no line came since the last batch. */
  finish(): Batch | null {
    if (this.items.length === 0 && this.lastLine === this.closedThrough) return null;
    return this.close(this.lastLine);
  }

  private close(throughLine: number): Batch {
    const batch = { items: this.items, throughLine };
    this.items = [];
    this.ids = new Set();
    this.closedThrough = throughLine;
    return batch;
  }
}
