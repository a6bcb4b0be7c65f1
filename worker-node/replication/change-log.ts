/**
 * The durable, fenced change log: one Redis Stream that every upsert and delete goes through.
 *
 * Keys, under one hash tag so that Redis Cluster keeps them in one slot (`<p>` is `{gte}` unless
 * REDIS_PREFIX says otherwise):
 *   <p>:log       the stream; fields epoch, op, id, version, doc (JSON text, metadata and the
 *                 passages' [start, end] spans), vec (the passages' float32 vectors, one after the
 *                 other, base64), model. `version` orders writes of one id (see metadata/store.ts);
 *                 empty when unknown. An entry from before passages has no spans and one vector.
 *   <p>:fence     the current epoch; appends with any other epoch are refused (Lua, atomic)
 *   <p>:fence_holder  the node that took the fence at that epoch: the only one that may append
 *                 or take it again at the same epoch (a replayed activate cannot make a 2nd writer)
 *   <p>:applied   hash node id → last applied stream id
 *   <p>:nodes     hash node id → URL, the registered nodes (trimming waits for all of them)
 *   <p>:trimmed   the last stream id removed by trimming; a node behind it must resynchronise
 *   <p>:version   the last write version issued (see issueVersion)
 *
 * A deposed master cannot write even if it never heard that it was deposed: its epoch no longer
 * equals the fence, so the script refuses the append before anything reaches the stream. Appends
 * and fence raises count only once WAIT saw them reach the Redis replicas (redis-ack.ts).
 */
import { connectionForKey, type RedisClient, redisKeyPrefix } from '../redis-connection.ts';
import { ReplicaAck, type ReplicaAckOptions } from './redis-ack.ts';
import { ApiError } from '../../shared/http-body.ts';
import type { ApplyEntry } from '../metadata/store.ts';
import { decodePassages, decodeVector, encodeUpsert } from './entry-codec.ts';
import { compareSeq, MAX_STREAM_PART, parseStreamId, SEQ_ZERO } from '../../shared/stream-id.ts';

export { decodeVector, encodeVector } from './entry-codec.ts';

/**
 * One operation as the master appends it: an ApplyEntry before the log gave it its position.
 * `version`: the write's place among all accepted writes (the master's, when it accepted the write).
 */
export type LogOp = ApplyEntry extends infer E ? (E extends unknown ? Omit<E, 'seq'> : never) : never;

/** The fence is not at this writer's epoch, or another node holds it: this node was deposed (409). */
export class StaleEpochError extends ApiError {
  override readonly name = 'StaleEpochError';
  constructor(
    readonly epoch: number,
    readonly fence: number,
    holder?: string,
  ) {
    super(
      409,
      'stale_epoch',
      holder
        ? `refused: the fence at epoch ${fence} is held by ${holder}, not this node (a replayed or duplicate activate)`
        : fence < epoch
          ? `append refused: the fence fell back to epoch ${fence}, below this node's ${epoch} (Redis lost it); writes wait until it is raised again`
          : `append refused: epoch ${epoch} is not the fence's epoch ${fence} (this node was deposed)`,
    );
  }

  /**
   * Whether another writer took over. A fence below this node's epoch is not that: Redis lost the
   * raise (an unreplicated write at a Redis failover), and the coordinator raises it again.
   */
  get deposed(): boolean {
    return this.fence >= this.epoch;
  }
}

// KEYS: fence, log, fence holder. ARGV: epoch, model, node ('' skips the holder check), then per
// entry: op, id, doc, vec, version. Returns the new stream ids, or {err = "STALE <fence> [holder]"}.
const APPEND_LUA = `
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
local epoch = tonumber(ARGV[1])
if fence ~= epoch then
  return redis.error_reply('STALE ' .. fence)
end
local holder = redis.call('GET', KEYS[3])
if ARGV[3] ~= '' and holder and holder ~= ARGV[3] then
  return redis.error_reply('STALE ' .. fence .. ' ' .. holder)
end
local ids = {}
for i = 4, #ARGV, 5 do
  ids[#ids + 1] = redis.call('XADD', KEYS[2], '*', 'epoch', ARGV[1], 'op', ARGV[i], 'id', ARGV[i + 1], 'version', ARGV[i + 4], 'doc', ARGV[i + 2], 'vec', ARGV[i + 3], 'model', ARGV[2])
end
return ids
`;

// Raises the fence to ARGV[1] for node ARGV[2]: a higher epoch always, the same epoch only for the
// node that already holds it (or when nobody does). Returns {fence after, holder after}.
const TAKE_FENCE_LUA = `
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
local holder = redis.call('GET', KEYS[2])
local epoch = tonumber(ARGV[1])
if epoch > fence or (epoch == fence and (not holder or holder == ARGV[2] or ARGV[2] == '')) then
  redis.call('SET', KEYS[1], ARGV[1])
  if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2]) end
  return {epoch, ARGV[2]}
end
return {fence, holder or ''}
`;

export interface RawEntry {
  seq: string;
  epoch: number;
  model: string;
  entry: ApplyEntry;
}

function decodeFields(seq: string, fields: string[]): RawEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const epoch = Number(f.epoch);
  const model = f.model ?? '';
  const version = f.version && /^\d+$/.test(f.version) ? Number(f.version) : undefined;
  if (f.op === 'delete') return { seq, epoch, model, entry: { seq, op: 'delete', id: f.id!, version } };
  const doc = JSON.parse(f.doc ?? '{}') as {
    text: string;
    metadata: Record<string, unknown>;
    passages?: unknown;
  };
  const upsert = {
    seq,
    op: 'upsert' as const,
    id: f.id!,
    text: doc.text,
    metadata: doc.metadata ?? {},
    version,
  };
  const passages = decodePassages(doc.passages, f.vec ?? '');
  return {
    seq,
    epoch,
    model,
    entry: passages ? { ...upsert, passages } : { ...upsert, vector: decodeVector(f.vec ?? '') },
  };
}

// KEYS: the version key. ARGV: the floor (the highest version the caller has applied). A version
// is Redis's clock in microseconds, or one more than the last version issued, or one more than the
// floor, whichever is highest; as a decimal string (Lua numbers are doubles: exact below 2^53).
const ISSUE_VERSION_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local floor = tonumber(ARGV[1]) or 0
local v = math.max(now, last + 1, floor + 1)
local text = string.format('%.0f', v)
redis.call('SET', KEYS[1], text)
return text
`;

export class ChangeLog {
  readonly keys;
  /** The braced key prefix (`{gte}`); REDIS_PREFIX given bare or braced lands on the same keys. */
  readonly prefix: string;
  /** WAIT after each append and fence raise. */
  readonly ack: ReplicaAck;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    ack: ReplicaAckOptions = { timeoutMs: 2000 },
  ) {
    prefix = redisKeyPrefix(prefix);
    this.prefix = prefix;
    this.keys = {
      log: `${prefix}:log`,
      fence: `${prefix}:fence`,
      fenceHolder: `${prefix}:fence_holder`,
      applied: `${prefix}:applied`,
      nodes: `${prefix}:nodes`,
      trimmed: `${prefix}:trimmed`,
      version: `${prefix}:version`,
    };
    redis.defineCommand('gteAppend', { numberOfKeys: 3, lua: APPEND_LUA });
    redis.defineCommand('gteTakeFence', { numberOfKeys: 2, lua: TAKE_FENCE_LUA });
    redis.defineCommand('gteIssueVersion', { numberOfKeys: 1, lua: ISSUE_VERSION_LUA });
    this.ack = new ReplicaAck(() => connectionForKey(redis, this.keys.log), ack);
  }

  /** Whether the connection is up right now (a cheap check before accepting writes). */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Appends entries atomically under `epoch`; throws StaleEpochError when the fence moved on, or
   * when `node` is given and another node holds the fence at this epoch.
   */
  async append(epoch: number, model: string, ops: readonly LogOp[], node = ''): Promise<string[]> {
    const argv: string[] = [String(epoch), model, node];
    for (const op of ops) {
      const version = op.version === undefined ? '' : String(op.version);
      if (op.op === 'upsert') {
        const { doc, vec } = encodeUpsert(op);
        argv.push('upsert', op.id, doc, vec, version);
      } else argv.push('delete', op.id, '', '', version);
    }
    let ids: string[];
    try {
      ids =
        (await (this.redis as unknown as { gteAppend(...a: string[]): Promise<string[]> }).gteAppend(
          this.keys.fence,
          this.keys.log,
          this.keys.fenceHolder,
          ...argv,
        )) ?? [];
    } catch (err) {
      const m = /STALE (\d+)(?: (\S+))?/.exec((err as Error).message);
      if (m) throw new StaleEpochError(epoch, Number(m[1]), m[2]);
      throw err;
    }
    await this.ack.confirm();
    return ids;
  }

  /**
   * Raises the fence to `epoch` for `node` (never lowers it); returns the fence afterwards. At an
   * equal epoch only the node that holds the fence may take it again: for any other node this
   * throws StaleEpochError naming the holder. Without `node` the holder is not checked or set.
   */
  async takeFence(epoch: number, node = ''): Promise<number> {
    const [fence, holder] = await (
      this.redis as unknown as { gteTakeFence(...a: string[]): Promise<[number, string]> }
    ).gteTakeFence(this.keys.fence, this.keys.fenceHolder, String(epoch), node);
    if (node && Number(fence) === epoch && holder !== node) throw new StaleEpochError(epoch, epoch, holder);
    await this.ack.confirm();
    return Number(fence);
  }

  /**
   * A version for a write being accepted: higher than every version issued before, through any
   * master, and than `floor` (the highest version the caller has applied). Versions order the
   * writes of one id (metadata/store.ts keeps the highest). Redis's clock carries them on, and
   * `floor` from what the nodes already hold, even if Redis lost its keys (a wipe, or a promoted
   * replica that missed the last ones): a new write must never look older than one acknowledged
   * before it, or every node would skip it.
   */
  async issueVersion(floor: number): Promise<number> {
    const text = await (
      this.redis as unknown as { gteIssueVersion(...a: string[]): Promise<string> }
    ).gteIssueVersion(this.keys.version, String(floor));
    return Number(text);
  }

  async fence(): Promise<number> {
    return Number((await this.redis.get(this.keys.fence)) ?? 0);
  }

  /** Id of the newest entry, or 0-0 for an empty log. */
  async tail(): Promise<string> {
    const last = (await this.redis.xrevrange(this.keys.log, '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last[0]?.[0] ?? SEQ_ZERO;
  }

  async length(): Promise<number> {
    return this.redis.xlen(this.keys.log);
  }

  /** Entries strictly after `after`, oldest first; blocks up to `blockMs` when there are none. */
  async readAfter(after: string, count: number, blockMs?: number): Promise<RawEntry[]> {
    const args: (string | number)[] = ['COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    const res =
      (await (
        this.redis.xread as (...a: (string | number)[]) => Promise<[string, [string, string[]][]][] | null>
      )(...args, 'STREAMS', this.keys.log, after)) ?? [];
    const entries = res[0]?.[1] ?? [];
    return entries.map(([seq, fields]) => decodeFields(seq, fields));
  }

  /** Id of the first entry after `after` (the oldest one not applied there), or null. */
  async firstAfter(after: string): Promise<string | null> {
    const rows = (await this.redis.xrange(this.keys.log, `(${after}`, '+', 'COUNT', 1)) as [
      string,
      unknown,
    ][];
    return rows[0]?.[0] ?? null;
  }

  /** Entries (after, upTo], for counting lag. */
  async countBetween(after: string, upTo: string, cap = 100_000): Promise<number> {
    if (compareSeq(upTo, after) <= 0) return 0;
    const rows = (await this.redis.xrange(this.keys.log, `(${after}`, upTo, 'COUNT', cap)) as unknown[];
    return rows.length;
  }

  async reportApplied(nodeId: string, seq: string): Promise<void> {
    await this.redis.hset(this.keys.applied, nodeId, seq);
  }

  async appliedPositions(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.applied);
  }

  async registerNode(nodeId: string, url: string): Promise<void> {
    await this.redis.hset(this.keys.nodes, nodeId, url);
  }

  /**
   * Forgets a node (an operator removing a dead machine): trimming stops waiting for it. If it
   * comes back it registers again and, when its position was trimmed away, resynchronises.
   */
  async unregisterNode(nodeId: string): Promise<void> {
    await this.redis.multi().hdel(this.keys.nodes, nodeId).hdel(this.keys.applied, nodeId).exec();
  }

  async registeredNodes(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.nodes);
  }

  /** The newest id removed by trimming (0-0 when nothing was trimmed). */
  async trimmedThrough(): Promise<string> {
    return (await this.redis.get(this.keys.trimmed)) ?? SEQ_ZERO;
  }

  /**
   * Removes entries every registered node has applied (all ids ≤ the lowest applied position),
   * keeping `keep` entries of slack. Returns how many entries were removed.
   */
  async trim(keep = 0): Promise<number> {
    const [nodes, applied] = await Promise.all([this.registeredNodes(), this.appliedPositions()]);
    const ids = Object.keys(nodes);
    if (ids.length === 0) return 0;
    let low: string | null = null;
    for (const id of ids) {
      const pos = applied[id] ?? SEQ_ZERO;
      if (low === null || compareSeq(pos, low) < 0) low = pos;
    }
    if (!low || low === SEQ_ZERO) return 0;
    let through = low;
    if (keep > 0) {
      const older = (await this.redis.xrevrange(this.keys.log, low, '-', 'COUNT', keep + 1)) as [
        string,
        string[],
      ][];
      if (older.length <= keep) return 0;
      through = older[keep]![0];
    }
    const id = parseStreamId(through);
    if (!id) return 0;
    await this.redis.set(this.keys.trimmed, through);
    // MINID keeps ids >= its argument: the id right after `through` (BigInt: ids pass 2^53).
    const next = id.seq === MAX_STREAM_PART ? `${id.ms + 1n}-0` : `${id.ms}-${id.seq + 1n}`;
    return this.redis.xtrim(this.keys.log, 'MINID', next);
  }
}
