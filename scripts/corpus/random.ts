/** Seeded randomness for reproducible corpora, fuzz cases and load mixes. */

export type Random = () => number;

/** mulberry32: a tiny seeded generator (32-bit state) of floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One element of `list`, drawn by `rand`. */
export const pick = <T>(rand: Random, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

/** An integer in [min, max], drawn by `rand`. */
export const intBetween = (rand: Random, min: number, max: number): number =>
  min + Math.floor(rand() * (max - min + 1));

/** A shuffled copy of `list` (Fisher-Yates, drawn by `rand`). */
export function shuffled<T>(rand: Random, list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** FNV-1a of `text` (UTF-16 code units): a stable 32-bit seed or bucket from a string. */
export function fnv1a(text: string, basis = 2166136261): number {
  let x = basis >>> 0;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), 16777619);
  return x >>> 0;
}
