import { describe, expect, it } from 'vitest';
import { RPC_ERRORS, rpcError, toApiError, type RpcErrorCode } from '../../edge/coordinator/rpc-errors.ts';
import { ApiError } from '../../shared/http-body.ts';

const codes = Object.keys(RPC_ERRORS) as RpcErrorCode[];

describe('coordinator RPC errors', () => {
  it('lists the codes the admin routes answer', () => {
    expect(codes.sort()).toEqual(
      [
        'already_master',
        'failover_in_progress',
        'invalid_request',
        'is_master',
        'no_candidate',
        'no_master',
        'target_not_healthy',
        'unknown_target',
      ].sort(),
    );
  });

  it.each(codes)('%s maps to a 4xx status and a message', (code) => {
    const { status, summary } = RPC_ERRORS[code];
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(summary.length).toBeGreaterThan(10);

    const error = toApiError(rpcError(code, `specific: ${code}`));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.name).toBe('ApiError');
    expect(error.status).toBe(status);
    expect(error.toBody()).toEqual({ error: { code, message: `specific: ${code}` } });
    // An RPC error without its own message still leaves with one.
    expect(toApiError(rpcError(code, '')).message).toBe(summary);
  });

  it('keeps the statuses callers rely on', () => {
    expect(RPC_ERRORS.invalid_request.status).toBe(400);
    expect(RPC_ERRORS.unknown_target.status).toBe(404);
    expect(RPC_ERRORS.is_master.status).toBe(409);
    expect(RPC_ERRORS.failover_in_progress.status).toBe(409);
  });
});
