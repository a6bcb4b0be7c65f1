/**
 * Pure statistics and formatting for the benchmarks: percentiles, summaries, ratios and markdown
 * tables. No I/O, so the unit tests pin every number the reports are built from.
 *
 * @example
 *   const s = summarize([12, 15, 11, 40]);   // { n: 4, mean: 19.5, p50: 13.5, p99: 39.25, ... }
 *   formatRatio(ratio(s.p50, 10));            // "1.35×"
 *   markdownTable(['conc', 'p50 ms'], [[8, formatMs(s.p50)]]);
 */

/**
 * The p-th percentile (0..100) by linear interpolation between the closest ranks (numpy's default),
 * or NaN for no values. The input need not be sorted and is not modified.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100 (got ${p})`);
  if (values.length === 0) return Number.NaN;
  return fromSorted(Float64Array.from(values).sort(), p);
}

function fromSorted(sorted: Float64Array, p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export interface Summary {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Count, mean, min, p50, p90, p99 and max of `values` (NaN everywhere but n for none). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, mean: NaN, min: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const sorted = Float64Array.from(values).sort();
  return {
    n: values.length,
    mean: sum / values.length,
    min,
    p50: fromSorted(sorted, 50),
    p90: fromSorted(sorted, 90),
    p99: fromSorted(sorted, 99),
    max,
  };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** a / b, or NaN when either is missing or b is zero (a ratio of nothing is not 0 or ∞). */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

/** "1.07×"; "–" for NaN. */
export function formatRatio(r: number, digits = 2): string {
  return Number.isFinite(r) ? `${r.toFixed(digits)}×` : '–';
}

/** Milliseconds with precision that suits the size: "0.42", "12.3", "1234"; "–" for NaN. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  return a < 10 ? ms.toFixed(2) : a < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

/** A rate or count with thousands separators and no decimals ("12,345"); "–" for NaN. */
export function formatCount(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–';
}

/** Events per second from a count and a duration in ms. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : NaN;
}

/** "met" / "NOT met" for a goal, with the measured value and the goal, e.g. "met (9.1 ms < 15 ms)". */
export function goalVerdict(ok: boolean, measured: string, goal: string): string {
  return `${ok ? '**met**' : '**NOT met**'} (${measured}; goal ${goal})`;
}

export type Cell = string | number;

/**
 * A GitHub-flavoured markdown table. Numbers are right-aligned (and printed as given), text is
 * left-aligned; a `|` inside a cell is escaped.
 */
export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const numeric = headers.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every(
        (r) => typeof r[i] === 'number' || /^[-+]?[\d,.]+(×|%| ms| s)?$|^–$/.test(String(r[i] ?? '')),
      ),
  );
  const esc = (c: Cell | undefined) => String(c ?? '').replace(/\|/g, '\\|');
  const lines = [
    `| ${headers.map(esc).join(' | ')} |`,
    `| ${headers.map((_, i) => (numeric[i] ? '---:' : '---')).join(' | ')} |`,
  ];
  for (const row of rows) lines.push(`| ${headers.map((_, i) => esc(row[i])).join(' | ')} |`);
  return lines.join('\n');
}
