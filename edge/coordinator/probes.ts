/**
 * The coordinator's probing half: each node's recent signals (kept in memory and in storage),
 * the /health probes that feed them, and the state the pure modules decide on.
 *
 * Concurrent probes of one node share one fetch, so a burst of failing requests reported from
 * the request path costs that node one probe, not one per request.
 */
import type { EdgeConfig } from '../config.ts';
import { recordSignal, type Signal } from '../detector.ts';
import { probeNode } from './node-client.ts';
import type { CoordinatorStore } from './storage.ts';
import type { CoordinatorState } from './views.ts';

export class Prober {
  private readonly history: Map<string, Signal[]>;
  private readonly probing = new Map<string, Promise<Signal>>();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly config: EdgeConfig,
  ) {
    // SQLite calls are synchronous, so the history is loaded before any RPC can run.
    this.history = store.loadSignals();
  }

  /** Registry, master, epoch and signals as the detector, the views and the failover machine read them. */
  state(): CoordinatorState {
    return {
      nodes: this.store.nodes(),
      history: this.history,
      master: this.store.master,
      epoch: this.store.epoch,
      config: this.config,
    };
  }

  signalsOf(nodeId: string): readonly Signal[] {
    return this.history.get(nodeId) ?? [];
  }

  isRegistered(nodeId: string): boolean {
    return this.store.nodes().some((n) => n.id === nodeId);
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.store.nodes().map((n) => this.probeOne(n.id)));
  }

  probeOne(nodeId: string): Promise<Signal | null> {
    const node = this.store.nodes().find((n) => n.id === nodeId);
    if (!node) return Promise.resolve(null);
    let pending = this.probing.get(nodeId);
    if (!pending) {
      pending = probeNode(node.url, this.config.probeTimeoutMs).then((signal) => {
        this.record(nodeId, signal);
        return signal;
      });
      pending.finally(() => this.probing.delete(nodeId)).catch(() => {});
      this.probing.set(nodeId, pending);
    }
    return pending;
  }

  record(nodeId: string, signal: Signal): void {
    if (!this.isRegistered(nodeId)) return; // removed while the probe ran
    this.history.set(nodeId, recordSignal(this.history.get(nodeId) ?? [], signal));
    this.store.appendSignal(nodeId, signal);
  }

  /** A removed node's signals (its stored rows go with CoordinatorStore.removeNode). */
  forget(nodeId: string): void {
    this.history.delete(nodeId);
  }
}
