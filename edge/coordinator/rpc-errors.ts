/**
 * Every error the coordinator's RPC methods can answer, each with its HTTP status and what it
 * means, in one list: the admin routes turn an RPC error into an ApiError with `toApiError` and
 * nothing else, so a new code cannot be added without its status (the type refuses it), and
 * test/unit/edge-rpc-errors.test.ts checks every entry.
 */
import { ApiError } from '../../shared/http-body.ts';

export const RPC_ERRORS = {
  invalid_request: { status: 400, summary: 'the node registration is not valid' },
  unknown_target: { status: 404, summary: 'the switchover target is not a registered node' },
  is_master: { status: 409, summary: 'the node is the master; switch over first' },
  already_master: { status: 409, summary: 'the switchover target is already the master' },
  failover_in_progress: { status: 409, summary: 'a failover is in progress; retry when it is done' },
  target_not_healthy: { status: 409, summary: 'the switchover target is not up and ready' },
  no_candidate: { status: 409, summary: 'no healthy, ready standby to promote' },
  no_master: { status: 409, summary: 'the cluster has no master yet' },
} as const satisfies Record<string, { status: ApiError['status']; summary: string }>;

export type RpcErrorCode = keyof typeof RPC_ERRORS;

/** What an RPC method answers instead of throwing (a thrown error loses its fields over RPC). */
export interface RpcError {
  ok: false;
  code: RpcErrorCode;
  message: string;
}

export function rpcError(code: RpcErrorCode, message: string): RpcError {
  return { ok: false, code, message };
}

/** The answer the edge gives for an RPC error: the code's status, the coordinator's own message. */
export function toApiError(error: Pick<RpcError, 'code' | 'message'>): ApiError {
  const { status, summary } = RPC_ERRORS[error.code];
  return new ApiError(status, error.code, error.message || summary);
}
