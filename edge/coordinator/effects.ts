/**
 * Performs one failover effect against the world (the coordinator's storage or a node) and
 * says how it went. The failover machine (../failover.ts) decides; this file only does.
 * Every node call here is idempotent per epoch on the node side, which is what makes a
 * redelivered or resumed step safe.
 */
import { z } from 'zod';
import { ActivateResult } from '../../shared/schemas.ts';
import type { EdgeConfig } from '../config.ts';
import type { Effect, FailoverRecord } from '../failover.ts';
import { readDiagnostics } from './diagnostics.ts';
import { callNode } from './node-client.ts';
import type { CoordinatorStore } from './storage.ts';

export interface EffectResult {
  ok: boolean;
  detail: string;
  /** Data the coordinator adds to the record before the transition (the report's diagnostics). */
  patch?: Partial<FailoverRecord>;
}

export interface EffectContext {
  store: CoordinatorStore;
  config: EdgeConfig;
  secret: string;
  urlOf(nodeId: string): string | null;
}

const CANARY_QUERY = { query: 'gte-pro canary', top_k: 1 };
/** A canary passes when the node answers a search with a results list; empty is fine (no corpus yet). */
const CanaryAnswer = z.object({ results: z.array(z.unknown()) });

export async function performEffect(
  effect: Effect,
  record: FailoverRecord,
  ctx: EffectContext,
): Promise<EffectResult> {
  const { store, config, secret } = ctx;
  switch (effect.type) {
    case 'set_epoch':
      return { ok: true, detail: `epoch ${store.raiseEpoch(effect.epoch)} stored` };
    case 'route':
      // Epoch first, then master: a reader never sees the new master with the old epoch.
      store.raiseEpoch(effect.epoch);
      store.setMaster(effect.master);
      return { ok: true, detail: `routing: master ${effect.master}, epoch ${effect.epoch}` };
    case 'degrade':
    case 'activate':
    case 'standby': {
      const url = ctx.urlOf(effect.node);
      if (!url) return { ok: false, detail: `node ${effect.node} is no longer registered` };
      const body =
        effect.type === 'standby' ? { epoch: effect.epoch, master: effect.master } : { epoch: effect.epoch };
      // Activation catches up to the log tail first, so it gets the whole verify window.
      const timeoutMs =
        effect.type === 'activate' ? config.activateVerifyMs : Math.max(1000, config.probeTimeoutMs * 2);
      const result = await callNode({
        node: effect.node,
        url,
        method: 'POST',
        path: `/api/v1/${effect.type}`,
        body,
        epoch: effect.epoch,
        timeoutMs,
        secret,
      });
      if (effect.type === 'activate' && result.ok) {
        const parsed = ActivateResult.safeParse(result.body);
        if (parsed.success) {
          return {
            ok: true,
            detail: `active at ${parsed.data.applied_seq}, caught up in ${parsed.data.catch_up_ms} ms (${parsed.data.replayed} replayed)`,
          };
        }
      }
      return { ok: result.ok, detail: result.detail };
    }
    case 'canary': {
      const url = ctx.urlOf(effect.node);
      if (!url) return { ok: false, detail: `node ${effect.node} is no longer registered` };
      const timeoutMs = Math.min(2000, Math.max(100, effect.deadlineAt - Date.now()));
      const result = await callNode({
        node: effect.node,
        url,
        method: 'POST',
        path: '/api/v1/search',
        body: CANARY_QUERY,
        timeoutMs,
        secret,
        signed: false,
      });
      const answered = result.ok && CanaryAnswer.safeParse(result.body).success;
      return {
        ok: answered,
        detail: answered ? 'canary search answered' : `canary search failed: ${result.detail}`,
      };
    }
    case 'write_report': {
      // The old master's diagnostics: best effort, it is often the dead one.
      if (!record.from) return { ok: true, detail: 'report written', patch: { diagnostics: null } };
      const url = ctx.urlOf(record.from);
      const result = url
        ? await callNode({
            node: record.from,
            url,
            method: 'GET',
            path: '/api/v1/diagnostics',
            timeoutMs: Math.max(1000, config.probeTimeoutMs * 2),
            secret,
          })
        : null;
      return { ok: true, detail: 'report written', patch: { diagnostics: readDiagnostics(result) } };
    }
  }
}
