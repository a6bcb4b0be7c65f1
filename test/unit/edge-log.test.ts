import { afterEach, describe, expect, it, vi } from 'vitest';
import { log, logs, setLogLevel } from '../../edge/log.ts';

afterEach(() => {
  setLogLevel(undefined);
  vi.restoreAllMocks();
});

describe('edge log level (LOG_LEVEL)', () => {
  it('drops lines below the level and writes the rest', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    setLogLevel('warn');
    log('info', 'worker', 'http.request', { request_id: 'r1' });
    log('debug', 'worker', 'cron.probe_loop_armed');
    log('warn', 'worker', 'upstream.failed', { node: 'a' });
    log('error', 'coordinator', 'failover.failed');
    expect(out.mock.calls.map((c) => JSON.parse(String(c[0])).event)).toEqual(['upstream.failed']);
    expect(err.mock.calls.map((c) => JSON.parse(String(c[0])).event)).toEqual(['failover.failed']);
    expect(logs('info')).toBe(false);
    expect(logs('warn')).toBe(true);
  });

  it('logs everything when unset or misspelt', () => {
    for (const level of [undefined, '', 'verbose', 'WARN']) {
      setLogLevel(level);
      expect(logs('debug'), String(level)).toBe(true);
    }
  });
});
