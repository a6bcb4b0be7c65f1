/**
 * The model's own word table, read from its model directory, for keyword query expansion
 * (keyword/expansion.ts): every node has the same model files, so every node finds the same
 * neighbours. A model qualifies when its ONNX graph holds a float initializer of shape
 * [vocabulary size, dimension] (the token embedding table: the whole of the demo model, the
 * input layer of a transformer) and its tokenizer.json has a WordPiece/BPE vocabulary of that
 * size; otherwise there is no table and searches go unexpanded.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

/** Words of the table that may be expanded or be an expansion: plain lowercase words. */
const PLAIN_WORD = /^[a-z]{3,}$/;

export interface WordTable {
  /** The table's plain words, in table order (the demo model's is most frequent first). */
  words: string[];
  /** Their vectors, each scaled to unit length, `dimension` floats per word. */
  vectors: Float32Array;
  dimension: number;
  /** word → its row in `words`. */
  index: Map<string, number>;
}

/** Builds a table from raw rows: keeps the plain words, normalised (rows of zero length dropped). */
export function wordTable(vocab: readonly string[], rows: Float32Array, dimension: number): WordTable {
  const words: string[] = [];
  const kept: number[] = [];
  vocab.forEach((w, i) => {
    if (PLAIN_WORD.test(w)) {
      words.push(w);
      kept.push(i);
    }
  });
  const vectors = new Float32Array(kept.length * dimension);
  const out: string[] = [];
  let n = 0;
  kept.forEach((row, i) => {
    let norm = 0;
    for (let d = 0; d < dimension; d++) norm += rows[row * dimension + d]! ** 2;
    if (norm === 0) return;
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < dimension; d++) vectors[n * dimension + d] = rows[row * dimension + d]! * scale;
    out.push(words[i]!);
    n++;
  });
  return {
    words: out,
    vectors: vectors.subarray(0, n * dimension),
    dimension,
    index: new Map(out.map((w, i) => [w, i])),
  };
}

/** The vocabulary of a Hugging Face tokenizer.json, by token id (null when it has none). */
function tokenizerVocab(json: unknown): string[] | null {
  const vocab = (json as { model?: { vocab?: unknown } }).model?.vocab;
  if (!vocab || typeof vocab !== 'object' || Array.isArray(vocab)) return null;
  const out: string[] = [];
  for (const [word, id] of Object.entries(vocab as Record<string, unknown>))
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0) out[id] = word;
  return out;
}

/** The model directory's word table, or null when the model has none (see the file's comment). */
export async function loadWordTable(modelDir: string): Promise<WordTable | null> {
  let vocab: string[] | null;
  let bytes: Buffer;
  try {
    vocab = tokenizerVocab(JSON.parse(await readFile(join(modelDir, 'tokenizer.json'), 'utf8')));
    bytes = await readFile(join(modelDir, 'model.onnx'));
  } catch {
    return null;
  }
  if (!vocab) return null;
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(bytes);
  for (const t of model.graph?.initializer ?? []) {
    const dims = (t.dims ?? []).map(Number);
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || dims.length !== 2 || dims[0] !== vocab.length)
      continue;
    const raw = t.rawData;
    const rows =
      raw && raw.length === dims[0]! * dims[1]! * 4
        ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))
        : Float32Array.from(t.floatData ?? []);
    if (rows.length !== dims[0]! * dims[1]!) continue;
    return wordTable(vocab, rows, dims[1]!);
  }
  return null;
}
