/**
 * Turns a transformer's token vectors into one vector per text: mask-aware mean pooling or CLS
 * pooling over a row-major [batch, seq, dim] buffer, then L2 normalisation. Pure, no I/O, so the
 * session worker and the tests share it.
 */

export type Pooling = 'mean' | 'cls';

/** Row-major [batch, seq, dim] token vectors with the [batch, seq] attention mask (1 = real token). */
export interface TokenVectors {
  hidden: Float32Array;
  mask: ArrayLike<number | bigint>;
  batch: number;
  seq: number;
  dim: number;
}

/**
 * One vector per row. Mean pooling averages only positions whose mask is non-zero, so padding
 * never changes a text's vector: a text embeds the same alone or in any batch.
 */
export function pool(t: TokenVectors, pooling: Pooling): Float32Array[] {
  if (t.hidden.length !== t.batch * t.seq * t.dim) {
    throw new Error(
      `hidden state has ${t.hidden.length} values, expected batch ${t.batch} × seq ${t.seq} × dim ${t.dim}`,
    );
  }
  const out: Float32Array[] = [];
  const sum = new Float64Array(t.dim);
  for (let b = 0; b < t.batch; b++) {
    const row = new Float32Array(t.dim);
    if (pooling === 'cls') {
      row.set(t.hidden.subarray(b * t.seq * t.dim, b * t.seq * t.dim + t.dim));
    } else {
      sum.fill(0);
      let count = 0;
      for (let s = 0; s < t.seq; s++) {
        if (Number(t.mask[b * t.seq + s]) === 0) continue;
        count++;
        const o = (b * t.seq + s) * t.dim;
        for (let d = 0; d < t.dim; d++) sum[d]! += t.hidden[o + d]!;
      }
      if (count > 0) for (let d = 0; d < t.dim; d++) row[d] = sum[d]! / count;
    }
    out.push(row);
  }
  return out;
}

/**
 * Scales `v` to unit length in place and returns it. An all-zero vector (a text of unknown
 * tokens only) stays zero rather than becoming NaN, which would poison an inner-product index.
 */
export function l2Normalize(v: Float32Array): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
  if (sq === 0) return v;
  const inv = 1 / Math.sqrt(sq);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}
