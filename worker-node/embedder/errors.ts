/**
 * Errors the embedder hands to its callers. Each is a shared ApiError, so it carries the status
 * and code the HTTP layer answers with.
 */
import { ApiError } from '../../shared/http-body.ts';

/** The bounded embed queue is full: the node is overloaded, the caller should back off (HTTP 429). */
export class QueueFullError extends ApiError {
  override readonly name = 'QueueFullError';
  constructor(
    readonly queued: number,
    readonly requested: number,
    readonly maxQueue: number,
  ) {
    super(
      429,
      'overloaded',
      `embed queue full: ${queued} texts queued + ${requested} requested > maxQueue ${maxQueue}; ` +
        'retry after a short backoff, or raise maxQueue if the node has memory and latency to spare',
    );
  }
}

/** The embedder was closed, or its worker thread died; nothing queued will run (HTTP 503). */
export class EmbedderUnavailableError extends ApiError {
  override readonly name = 'EmbedderUnavailableError';
  constructor(message: string) {
    super(503, 'embedder_unavailable', message);
  }
}
