/**
 * The node's own errors. Each one is a shared ApiError (shared/http-body.ts), so it carries the
 * status and code it answers with, and the app's error handler needs one `instanceof` check.
 * The embedder's two errors live beside the embedder (embedder/errors.ts) and follow the same rule.
 */
import { ApiError } from '../shared/http-body.ts';

/** Redis is down: writes, job state and the fence live there (503, searches still work). */
export class RedisUnavailableError extends ApiError {
  override readonly name = 'RedisUnavailableError';
  constructor(message: string) {
    super(503, 'redis_unavailable', message);
  }
}

/**
 * The fence in Redis is below this master's epoch: Redis lost it (a failover that dropped an
 * unreplicated raise). Not a deposition: writes wait until the coordinator re-activates this node,
 * which raises the fence again (503, retry).
 */
export class FenceBehindError extends ApiError {
  override readonly name = 'FenceBehindError';
  constructor(epoch: number, fence: number) {
    super(
      503,
      'fence_behind',
      `the fence in Redis is at epoch ${fence}, below this master's ${epoch}: writes are refused until it is raised again`,
    );
  }
}

/** A control call or a write carries an epoch older than the node's, or than the fence (409). */
export class EpochRefusedError extends ApiError {
  override readonly name = 'EpochRefusedError';
  constructor(message: string) {
    super(409, 'stale_epoch', message);
  }
}

/** The node is copying a peer's data; its engine is closed meanwhile (503, retry elsewhere). */
export class ResynchronisingError extends ApiError {
  override readonly name = 'ResynchronisingError';
  constructor() {
    super(503, 'resynchronising', "this node is copying a peer's data; retry on another node");
  }
}

/** A write was accepted but did not reach its wait level in time (504: poll the job). */
export class WaitTimeoutError extends ApiError {
  override readonly name = 'WaitTimeoutError';
  constructor(code: 'wait_timeout' | 'not_replicated', message: string) {
    super(504, code, message);
  }
}

/** The local data is too far behind the log to serve reads (503, retry on a node that is current). */
export class LaggingError extends ApiError {
  override readonly name = 'LaggingError';
  constructor(reason: string) {
    super(503, 'lagging', `this node's data is behind the log (${reason}); retry on another node`);
  }
}
