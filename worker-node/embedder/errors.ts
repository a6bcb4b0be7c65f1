/**
 * Errors the embedder hands to its callers, each one mapped by the HTTP layer to a status code.
 */

/** The bounded embed queue is full: the node is overloaded, the caller should back off (HTTP 429). */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    readonly queued: number,
    readonly requested: number,
    readonly maxQueue: number,
  ) {
    super(
      `embed queue full: ${queued} texts queued + ${requested} requested > maxQueue ${maxQueue}; ` +
        'retry after a short backoff, or raise maxQueue if the node has memory and latency to spare',
    );
  }
}

/** The embedder was closed, or its worker thread died; nothing queued will run (HTTP 503). */
export class EmbedderUnavailableError extends Error {
  override readonly name = 'EmbedderUnavailableError';
}
