/**
 * How a change-log entry's payload is written and read: `doc` holds the text, the metadata and the
 * passages' [start, end] spans; `vec` holds the passages' float32 vectors end to end, base64. An
 * entry written before passages has no spans and one vector (read back as such: the store makes it
 * one passage over the whole text). Pure, so both directions are unit-tested without Redis.
 */
import { type EmbeddedPassage, passagesOf } from '../metadata/store.ts';
import type { LogOp } from './change-log.ts';

export function encodeVector(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function decodeVector(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** An upsert's `doc` and `vec` fields: every passage's span in the doc, their vectors end to end. */
export function encodeUpsert(op: Extract<LogOp, { op: 'upsert' }>): { doc: string; vec: string } {
  const passages = passagesOf({ ...op, seq: '' });
  const dimension = passages[0]?.vector.length ?? 0;
  const vectors = new Float32Array(passages.length * dimension);
  passages.forEach((p, i) => vectors.set(p.vector, i * dimension));
  const spans = passages.map((p) => [p.start, p.end]);
  return {
    doc: JSON.stringify({ text: op.text, metadata: op.metadata, passages: spans }),
    vec: encodeVector(vectors),
  };
}

/** The passages of a decoded upsert; null for an entry from before passages (one vector, no spans). */
export function decodePassages(spans: unknown, vec: string): EmbeddedPassage[] | null {
  if (spans === undefined) return null;
  const all = decodeVector(vec);
  if (!Array.isArray(spans) || spans.length === 0 || all.length % spans.length !== 0)
    throw new Error(
      `log entry holds ${all.length} floats for ${Array.isArray(spans) ? spans.length : 'no'} passages; it is corrupt`,
    );
  const dimension = all.length / spans.length;
  return spans.map((span, i) => {
    const [start, end] = span as [number, number];
    return { start, end, vector: all.slice(i * dimension, (i + 1) * dimension) };
  });
}
