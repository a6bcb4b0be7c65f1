import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../shared/log.ts';

const AT = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

describe('formatLogLine', () => {
  it('writes one JSON object with the keys in the agreed order', () => {
    const line = formatLogLine(
      'warn',
      'coordinator',
      'failover.started',
      { reason: 'master down', request_id: 'r-1', epoch: 7, node: 'gpu-a', to: 'gpu-b' },
      AT,
    );
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'time',
      'level',
      'component',
      'event',
      'node',
      'epoch',
      'request_id',
      'reason',
      'to',
    ]);
    expect(parsed).toEqual({
      time: '2026-01-02T03:04:05.006Z',
      level: 'warn',
      component: 'coordinator',
      event: 'failover.started',
      node: 'gpu-a',
      epoch: 7,
      request_id: 'r-1',
      reason: 'master down',
      to: 'gpu-b',
    });
  });

  it('leaves out node, epoch and request_id when they are absent', () => {
    const parsed = JSON.parse(formatLogLine('info', 'worker', 'http.request', { status: 200 }, AT));
    expect(Object.keys(parsed)).toEqual(['time', 'level', 'component', 'event', 'status']);
    const undef = JSON.parse(formatLogLine('info', 'worker', 'x', { node: undefined, epoch: 0 }, AT));
    expect(undef).not.toHaveProperty('node');
    expect(undef.epoch).toBe(0);
  });

  it('never lets a field move or overwrite the leading keys', () => {
    const parsed = JSON.parse(
      formatLogLine('error', 'worker', 'real.event', { event: 'fake', level: 'debug', time: 'then' }, AT),
    );
    expect(parsed).toEqual({
      time: '2026-01-02T03:04:05.006Z',
      level: 'error',
      component: 'worker',
      event: 'real.event',
    });
  });
});
