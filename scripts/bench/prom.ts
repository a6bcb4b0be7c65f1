/**
 * Reads histogram sums and counts out of Prometheus text (a node's /metrics), so a benchmark can
 * scrape before and after a load and compute the mean per stage of what ran in between.
 *
 * @example
 *   const before = histogramTotals(await scrape(), 'gte_node_search_stage_seconds', 'stage');
 *   ... load ...
 *   const during = subtractTotals(histogramTotals(await scrape(), ...), before);
 *   meanMs(during.get('embed'));   // mean embed time per search, ms
 */

export interface HistogramTotals {
  sum: number;
  count: number;
}

export type TotalsByLabel = Map<string, HistogramTotals>;

/**
 * `{label value → {sum, count}}` for histogram `name`, keyed by the value of `label`
 * (stage="embed" → "embed"); series without that label are keyed "".
 */
export function histogramTotals(text: string, name: string, label = ''): TotalsByLabel {
  const out: TotalsByLabel = new Map();
  const re = new RegExp(`^${name}_(sum|count)(?:\\{([^}]*)\\})?\\s+(\\S+)`);
  const labelRe = label ? new RegExp(`(?:^|,)${label}="([^"]*)"`) : null;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const key = labelRe?.exec(m[2] ?? '')?.[1] ?? '';
    const entry = out.get(key) ?? { sum: 0, count: 0 };
    entry[m[1] as 'sum' | 'count'] = Number(m[3]);
    out.set(key, entry);
  }
  return out;
}

/** after − before, per label (what was observed between two scrapes). */
export function subtractTotals(after: TotalsByLabel, before: TotalsByLabel): TotalsByLabel {
  const out: TotalsByLabel = new Map();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { sum: 0, count: 0 };
    out.set(key, { sum: a.sum - b.sum, count: a.count - b.count });
  }
  return out;
}

/** a + b, per label (accumulates deltas over rounds). */
export function addTotals(a: TotalsByLabel, b: TotalsByLabel): TotalsByLabel {
  const out: TotalsByLabel = new Map(a);
  for (const [key, t] of b) {
    const prev = out.get(key) ?? { sum: 0, count: 0 };
    out.set(key, { sum: prev.sum + t.sum, count: prev.count + t.count });
  }
  return out;
}

/** Mean of the observations, scaled by `scale` (1000: seconds → ms); NaN when there were none. */
export function meanOf(t: HistogramTotals | undefined, scale = 1000): number {
  return t && t.count > 0 ? (t.sum / t.count) * scale : NaN;
}
