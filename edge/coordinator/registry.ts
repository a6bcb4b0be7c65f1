/**
 * The operator's RPCs: register and remove nodes, seed the registry from NODES, and run a
 * planned switchover to the end. Refusals are typed RPC errors (./rpc-errors.ts), never throws.
 */
import type { FailoverReport, NodeStatus } from '../../shared/edge-api.ts';
import { RegisterNode } from '../../shared/schemas.ts';
import { parseSeedNodes } from '../config.ts';
import { log } from '../log.ts';
import type { AlarmLoop } from './alarm-loop.ts';
import type { FailoverDriver } from './failover-driver.ts';
import type { Prober } from './probes.ts';
import { rpcError, type RpcError } from './rpc-errors.ts';
import type { CoordinatorStore } from './storage.ts';
import { assessNodes, failoverReport, nodeStatus } from './views.ts';

export interface RegistryParts {
  store: CoordinatorStore;
  prober: Prober;
  alarm: AlarmLoop;
  driver: FailoverDriver;
  /** Re-evaluates the cluster in the background (the caller's answer does not wait for a failover). */
  reconcileSoon(): void;
}

export async function registerNode(
  parts: RegistryParts,
  input: unknown,
): Promise<{ ok: true; created: boolean; node: NodeStatus } | RpcError> {
  const parsed = RegisterNode.safeParse(input);
  if (!parsed.success) return rpcError('invalid_request', parsed.error.issues[0]?.message ?? 'invalid node');
  const { store, prober } = parts;
  const node = { ...parsed.data, url: parsed.data.url.replace(/\/+$/, '') };
  const created = store.upsertNode(node, Date.now());
  // Registered again before the master forgot it: it must stay in the log's trim set.
  store.peersToForget = store.peersToForget.filter((id) => id !== node.id);
  log('info', 'coordinator', created ? 'node.registered' : 'node.updated', {
    node: node.id,
    epoch: store.epoch,
    url: node.url,
  });
  await parts.alarm.armIfIdle('api');
  await prober.probeOne(node.id);
  parts.reconcileSoon();
  const status = assessNodes(prober.state()).find((n) => n.row.id === node.id)!;
  return { ok: true, created, node: nodeStatus(status) };
}

export function removeNode(parts: RegistryParts, id: string): { ok: true; removed: boolean } | RpcError {
  const { store } = parts;
  if (id === store.master)
    return rpcError(
      'is_master',
      `node "${id}" is the master; move it first with POST /api/v1/admin/switchover`,
    );
  const active = store.activeFailover();
  if (active && (active.to === id || active.demote === id))
    return rpcError(
      'failover_in_progress',
      `node "${id}" takes part in failover ${active.id}; retry when it is done`,
    );
  const removed = store.removeNode(id);
  parts.prober.forget(id);
  if (removed) {
    log('info', 'coordinator', 'node.removed', { node: id, epoch: store.epoch });
    // Trimming waits for every node in the log's trim set: the master must forget this one too.
    store.peersToForget = [...store.peersToForget, id];
    parts.reconcileSoon();
  }
  return { ok: true, removed };
}

/** Planned hand-over: the standby is activated before the master steps down. Runs to the end. */
export async function switchover(
  parts: RegistryParts,
  to?: string,
): Promise<{ ok: true; report: FailoverReport } | RpcError> {
  const { store, driver } = parts;
  if (driver.busy)
    return rpcError('failover_in_progress', 'a failover is in progress; retry when it is done');
  const master = store.master;
  if (!master) return rpcError('no_master', 'the cluster has no master yet; nothing to switch over from');
  await parts.prober.probeAll(); // decide on fresh health, not on a probe up to one interval old
  const record = driver.start('switchover', master, 'planned switchover (admin)', to);
  if ('code' in record) return record;
  await driver.drive(record);
  return { ok: true, report: failoverReport(store.getFailover(record.id) ?? record) };
}

/** NODES (wrangler.toml) seeds the registry once, on the coordinator's first start. */
export function seedRegistry(store: CoordinatorStore, nodesVar: string | undefined): void {
  if (store.getMeta('seeded') !== null) return;
  try {
    for (const node of parseSeedNodes(nodesVar)) store.upsertNode(node, Date.now());
  } catch (error) {
    store.setMeta('note', String(error instanceof Error ? error.message : error));
    log('error', 'coordinator', 'config.nodes_invalid', {
      error: String(error),
      effect: 'registry not seeded',
    });
  }
  store.setMeta('seeded', '1');
}
