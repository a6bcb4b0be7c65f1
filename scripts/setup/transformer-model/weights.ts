/**
 * Seeded pseudo-random weights: the same name and seed always give the same numbers, on any
 * machine (no Math.random, no clock), so two builds are byte-identical.
 */
import { createHash } from 'node:crypto';

/** `count` values, roughly normal with standard deviation `std` (sum of four uniforms). */
export function seededTensor(key: string, count: number, std: number): Float32Array {
  const digest = createHash('sha256').update(key).digest();
  let s = digest.readUInt32LE(0) | 1;
  // xorshift32: fast, and plenty for weights whose only job is to cost what real ones do.
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  // The sum of four uniforms on [0,1) has mean 2 and variance 1/3.
  const k = std * Math.sqrt(3);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (next() + next() + next() + next() - 2) * k;
  return out;
}
