import { describe, expect, it } from 'vitest';
import { readDiagnostics, storedDiagnostics } from '../../edge/coordinator/diagnostics.ts';
import type { CallResult } from '../../edge/coordinator/node-client.ts';

const answered = (body: unknown, status = 200): CallResult => ({
  ok: status < 400,
  status,
  body,
  detail: `HTTP ${status}`,
});

describe("the old master's diagnostics in a failover report", () => {
  it('records an answer that is not NodeDiagnostics as such, with what was received', () => {
    const diagnostics = readDiagnostics(answered({ node: 'm', errors: ['boom'] }));
    expect(diagnostics).toMatchObject({
      unavailable: expect.stringMatching(/^answer is not NodeDiagnostics/),
    });
    expect(diagnostics).toHaveProperty('received', '{"node":"m","errors":["boom"]}');
    expect(readDiagnostics(answered('x'.repeat(5000)))).toHaveProperty('received', 'x'.repeat(2000));
  });

  it('records a dead or refusing node as unavailable, with the reason', () => {
    const dead: CallResult = { ok: false, status: null, body: null, detail: 'connect error: fetch failed' };
    expect(readDiagnostics(dead)).toEqual({ unavailable: 'connect error: fetch failed' });
    expect(readDiagnostics({ ...answered({}, 401), detail: 'HTTP 401: nope' })).toEqual({
      unavailable: 'HTTP 401: nope',
    });
    expect(readDiagnostics(null)).toEqual({ unavailable: 'node no longer registered' });
  });

  it('reads a stored record of an older edge through the schema, never crashing the view', () => {
    expect(storedDiagnostics({ node: 'm', errors: ['old shape'] })).toEqual({
      unavailable: 'stored answer is not NodeDiagnostics',
      received: '{"node":"m","errors":["old shape"]}',
    });
    expect(storedDiagnostics({ unavailable: 'timeout after 1000 ms' })).toEqual({
      unavailable: 'timeout after 1000 ms',
    });
    expect(storedDiagnostics(null)).toBeNull();
    expect(storedDiagnostics(undefined)).toBeNull();
  });
});
