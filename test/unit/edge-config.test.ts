import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseSeedNodes, readConfig } from '../../edge/config.ts';
import { renderMetrics } from '../../edge/metrics-text.ts';

describe('edge config', () => {
  it('reads wrangler vars as numbers, empty meaning default', () => {
    expect(readConfig({})).toEqual(DEFAULT_CONFIG);
    expect(
      readConfig({ PROBE_INTERVAL_MS: '100', FAIL_THRESHOLD: '5', OVERLOAD_WINDOW_MS: '' }),
    ).toMatchObject({ probeIntervalMs: 100, failThreshold: 5, overloadWindowMs: 10_000 });
  });

  it('names the variable and the accepted range on a bad value', () => {
    expect(() => readConfig({ PROBE_TIMEOUT_MS: 'soon' })).toThrow(
      /PROBE_TIMEOUT_MS="soon" is invalid: expected a number from 10 to 60000/,
    );
    expect(() => readConfig({ FAIL_THRESHOLD: '0' })).toThrow(/FAIL_THRESHOLD/);
  });

  it('parses NODES, trimming trailing slashes and defaulting priority', () => {
    expect(parseSeedNodes('')).toEqual([]);
    expect(
      parseSeedNodes('[{"id":"a","url":"http://h:1/"},{"id":"b","url":"http://h:2","priority":7}]'),
    ).toEqual([
      { id: 'a', url: 'http://h:1', priority: 100 },
      { id: 'b', url: 'http://h:2', priority: 7 },
    ]);
    expect(() => parseSeedNodes('{')).toThrow(/JSON list/);
    expect(() => parseSeedNodes('[{"id":1}]')).toThrow(/NODES\[0\]/);
  });
});

describe('metrics text', () => {
  it('renders the Prometheus exposition with escaped labels', () => {
    const text = renderMetrics({
      epoch: 3,
      failoverCount: 2,
      nodes: [
        { id: 'a"b', up: true, lagSeconds: 0.25 },
        { id: 'c', up: false, lagSeconds: null },
      ],
      probes: [{ node: 'c', outcome: 'timeout', count: 4 }],
    });
    expect(text).toContain('gte_pro_failover_count_total 2\n');
    expect(text).toContain('gte_pro_epoch 3\n');
    expect(text).toContain('gte_pro_node_up{node="a\\"b"} 1\n');
    expect(text).toContain('gte_pro_node_up{node="c"} 0\n');
    expect(text).toContain('gte_pro_replication_lag_seconds{node="a\\"b"} 0.25\n');
    expect(text).not.toContain('gte_pro_replication_lag_seconds{node="c"}');
    expect(text).toContain('gte_pro_probe_total{node="c",outcome="timeout"} 4\n');
  });
});
