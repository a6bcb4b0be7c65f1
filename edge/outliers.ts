/**
 * Outlier ejection on the read path (after Envoy's outlier detection), separate from failover:
 * a node with OUTLIER.consecutiveErrors failed reads in a row, that lost
 * OUTLIER.consecutiveHedgeLosses hedge races in a row, or whose recent latency is far above its
 * peers', leaves balanced read routing (router.ts readOrder `ejected`) for a back-off
 * that doubles on each repeat, up to maxEjectMs. It stays in the fallback order, so an ejected
 * node still serves when nothing else can; and never more than half the nodes are out at once
 * (ejecting most of a cluster because all of it is slow would only move the load around).
 *
 * Per isolate and pure (times are passed in). The coordinator decides failover on its own
 * probes; ejection only steers reads, and a slow master keeps taking writes.
 */

export interface OutlierConfig {
  consecutiveErrors: number;
  /**
   * Reads in a row on which the node was still working when a hedge to another node answered.
   * A frozen or very slow node's first attempts are cancelled at the hedge delay, so their
   * recorded latency stays low: losing hedge races in a row is how such a node shows.
   */
  consecutiveHedgeLosses: number;
  /** Slow: latency above slowFactor × the median of the others, and above minSlowMs. */
  slowFactor: number;
  minSlowMs: number;
  baseEjectMs: number;
  maxEjectMs: number;
}

export const OUTLIER: OutlierConfig = {
  consecutiveErrors: 5,
  consecutiveHedgeLosses: 3,
  slowFactor: 3,
  minSlowMs: 200,
  baseEjectMs: 10_000,
  maxEjectMs: 300_000,
};

interface NodeRecord {
  consecutiveErrors: number;
  hedgeLosses: number;
  ejectedUntil: number;
  /** How many times this node was ejected: the next back-off is baseEjectMs × 2^ejections. */
  ejections: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export class OutlierDetector {
  private readonly nodes = new Map<string, NodeRecord>();

  constructor(readonly config: OutlierConfig = OUTLIER) {}

  private record(id: string): NodeRecord {
    let r = this.nodes.get(id);
    if (!r) {
      r = { consecutiveErrors: 0, hedgeLosses: 0, ejectedUntil: 0, ejections: 0 };
      this.nodes.set(id, r);
    }
    return r;
  }

  private isEjected(id: string, now: number): boolean {
    return (this.nodes.get(id)?.ejectedUntil ?? 0) > now;
  }

  /** Ejects `id` unless it already is, or half of `all` already are. */
  private eject(id: string, all: readonly string[], now: number): boolean {
    if (this.isEjected(id, now)) return false;
    const out = all.filter((n) => this.isEjected(n, now)).length;
    if (out + 1 > Math.floor(all.length / 2)) return false;
    const r = this.record(id);
    // Each base period spent back in routing since the last ejection ended halves the next
    // back-off again (Envoy's multiplier decay): a node slow once a day is not out for minutes.
    if (r.ejections > 0 && r.ejectedUntil > 0)
      r.ejections = Math.max(0, r.ejections - Math.floor((now - r.ejectedUntil) / this.config.baseEjectMs));
    r.ejectedUntil = now + Math.min(this.config.maxEjectMs, this.config.baseEjectMs * 2 ** r.ejections);
    r.ejections++;
    r.consecutiveErrors = 0;
    r.hedgeLosses = 0;
    return true;
  }

  onSuccess(id: string): void {
    const r = this.record(id);
    r.consecutiveErrors = 0;
    r.hedgeLosses = 0;
  }

  /** `id` had not answered when a hedge to another node did; true if that ejected it. */
  onHedgeLost(id: string, all: readonly string[], now: number): boolean {
    const r = this.record(id);
    r.hedgeLosses++;
    return r.hedgeLosses >= this.config.consecutiveHedgeLosses && this.eject(id, all, now);
  }

  /**
   * `id` answered a hedged read while a node still in balanced routing had not: if it was
   * ejected, it is back now (true). An ejected node that beats its peers is no outlier, and
   * keeping it out would, under the half cap, keep the node it just beat from being ejected.
   */
  onHedgeWon(id: string, now: number): boolean {
    const r = this.nodes.get(id);
    if (!r || r.ejectedUntil <= now) return false;
    r.ejectedUntil = now;
    return true;
  }

  /** A failed read on `id` (not a cancelled loser, not overload, not "behind"); true if it ejected it. */
  onError(id: string, all: readonly string[], now: number): boolean {
    const r = this.record(id);
    r.consecutiveErrors++;
    return r.consecutiveErrors >= this.config.consecutiveErrors && this.eject(id, all, now);
  }

  /**
   * Ejects the nodes whose latency is far above the median of the others' (nodes without a
   * latency are left out of the comparison). Returns the ids it ejected.
   */
  checkLatencies(latencies: ReadonlyMap<string, number | null>, now: number): string[] {
    const all = [...latencies.keys()];
    const known = [...latencies].filter((e): e is [string, number] => e[1] !== null);
    if (known.length < 2) return [];
    const ejected: string[] = [];
    // Slowest first, so that under the half cap the worst node is the one that goes.
    for (const [id, ms] of [...known].sort((a, b) => b[1] - a[1])) {
      const peers = known.filter(([other]) => other !== id).map(([, v]) => v);
      if (
        ms > this.config.minSlowMs &&
        ms > this.config.slowFactor * median(peers) &&
        this.eject(id, all, now)
      )
        ejected.push(id);
    }
    return ejected;
  }

  /** The ids out of balanced routing now. */
  ejected(now: number): Set<string> {
    return new Set([...this.nodes].filter(([, r]) => r.ejectedUntil > now).map(([id]) => id));
  }
}
