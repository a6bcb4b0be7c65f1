/**
 * The demo model's word table: the most frequent GloVe words, SIF-weighted, and one seeded vector
 * per CJK character (build-demo-model.ts writes them into the ONNX graph).
 */

export const DIM = 100;
export const ENGLISH_WORDS = 50_000;
export const CJK_FIRST = 0x4e00;
export const CJK_LAST = 0x9fff;
/** Chinese function characters: present in almost every sentence, so they carry little meaning. */
const CJK_FUNCTION_CHARS = new Set(
  '的了是在和有我不这个们与及或为之其中对等也就都而被把从到以请吗呢如何怎么',
);
const CJK_FUNCTION_WEIGHT = 0.2;
/** SIF smoothing constant; see `weightEnglish`. */
export const SIF_A = 1e-3;

export interface WinkEmbeddings {
  size: number;
  dimensions: number;
  words: string[];
  /** word → [...vector, l2 norm, word index] */
  vectors: Record<string, number[]>;
}

export function selectEnglish(source: WinkEmbeddings): {
  words: string[];
  ranks: number[];
  vectors: Float64Array;
} {
  const words: string[] = [];
  const ranks: number[] = [];
  for (let i = 0; i < source.words.length && words.length < ENGLISH_WORDS; i++) {
    const w = source.words[i]!;
    if (/^[a-z0-9]+$/.test(w) && source.vectors[w]) {
      words.push(w);
      ranks.push(i + 1);
    }
  }
  const vectors = new Float64Array(words.length * DIM);
  words.forEach((w, i) => vectors.set(source.vectors[w]!.slice(0, DIM), i * DIM));
  return { words, ranks, vectors };
}

/**
 * Why this weighting: a plain mean of raw GloVe vectors is dominated by a direction every word
 * shares (and by frequent words like "the", "for"), so any two English sentences come out at
 * cosine ~0.9. Following SIF (Arora et al., "A Simple but Tough-to-Beat Baseline for Sentence
 * Embeddings", 2017), adapted to a static table because the ONNX graph only mean-pools:
 *   1. subtract the vocabulary's mean vector and project out its first principal direction
 *      (the "common component"), computed once over the word table instead of per corpus;
 *   2. scale each word by a/(a + p(w)), with p(w) from Zipf's law on the frequency rank,
 *      p(rank) = 1/(rank · H_N), N = 341k words in the source. With a = 1e-3, "the" keeps ~1%
 *      of its length, rank 100 ~60%, rank 1000+ over 90%.
 * Mean pooling then computes a SIF sentence vector up to scale, which L2 normalisation removes.
 */
export function weightEnglish(vectors: Float64Array, ranks: number[], sourceSize: number): Float64Array {
  const n = ranks.length;
  const mean = new Float64Array(DIM);
  for (let r = 0; r < n; r++) for (let d = 0; d < DIM; d++) mean[d]! += vectors[r * DIM + d]! / n;
  for (let r = 0; r < n; r++) for (let d = 0; d < DIM; d++) vectors[r * DIM + d]! -= mean[d]!;
  const pc = firstPrincipalDirection(vectors, n);
  let harmonic = 0;
  for (let k = 1; k <= sourceSize; k++) harmonic += 1 / k;
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let d = 0; d < DIM; d++) dot += vectors[r * DIM + d]! * pc[d]!;
    const weight = SIF_A / (SIF_A + 1 / (ranks[r]! * harmonic));
    for (let d = 0; d < DIM; d++) vectors[r * DIM + d] = (vectors[r * DIM + d]! - dot * pc[d]!) * weight;
  }
  return vectors;
}

/** Power iteration on the 100×100 scatter matrix, from a fixed start vector (deterministic). */
function firstPrincipalDirection(vectors: Float64Array, n: number): Float64Array {
  const scatter = new Float64Array(DIM * DIM);
  for (let r = 0; r < n; r++) {
    const o = r * DIM;
    for (let i = 0; i < DIM; i++) {
      const x = vectors[o + i]!;
      for (let j = 0; j < DIM; j++) scatter[i * DIM + j]! += x * vectors[o + j]!;
    }
  }
  let v = new Float64Array(DIM).fill(1 / Math.sqrt(DIM));
  for (let it = 0; it < 500; it++) {
    const next = new Float64Array(DIM);
    for (let i = 0; i < DIM; i++) for (let j = 0; j < DIM; j++) next[i]! += scatter[i * DIM + j]! * v[j]!;
    const norm = Math.hypot(...next);
    v = next.map((x) => x / norm);
  }
  return v;
}

export function medianNorm(table: Float64Array, n: number): number {
  const norms: number[] = [];
  for (let r = 0; r < n; r++) norms.push(Math.hypot(...table.subarray(r * DIM, (r + 1) * DIM)));
  norms.sort((a, b) => a - b);
  return norms[Math.floor(n / 2)]!;
}

/**
 * One vector per CJK character. Without Chinese word vectors, random near-orthogonal vectors at
 * least make texts that share characters similar; seeding from the code point keeps it
 * reproducible. Scaled to the median English word length so neither script drowns the other.
 */
export function fillCjk(table: Float32Array, offset: number, norm: number): void {
  const v = new Float64Array(DIM);
  for (let cp = CJK_FIRST; cp <= CJK_LAST; cp++) {
    const next = splitmix32(cp * 0x9e3779b1);
    for (let d = 0; d < DIM; d += 2) {
      const u1 = (next() + 1) / 4294967297; // in (0, 1): log(u1) stays finite
      const u2 = next() / 4294967296;
      const radius = Math.sqrt(-2 * Math.log(u1));
      v[d] = radius * Math.cos(2 * Math.PI * u2);
      v[d + 1] = radius * Math.sin(2 * Math.PI * u2);
    }
    const scale =
      (norm * (CJK_FUNCTION_CHARS.has(String.fromCodePoint(cp)) ? CJK_FUNCTION_WEIGHT : 1)) /
      Math.hypot(...v);
    const o = offset + (cp - CJK_FIRST) * DIM;
    for (let d = 0; d < DIM; d++) table[o + d] = v[d]! * scale;
  }
}

/** The CJK vectors' own generator (changing it would change the model's bytes). */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
