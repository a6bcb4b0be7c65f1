/** Errors the vector index hands to its callers; each carries the status the HTTP layer answers with. */
import { ApiError } from '../../shared/http-body.ts';

/** The FAISS worker died and the index is being rebuilt from SQLite (HTTP 503: try another node). */
export class IndexUnavailableError extends ApiError {
  override readonly name = 'IndexUnavailableError';
  constructor(message: string) {
    super(503, 'index_unavailable', message);
  }
}
