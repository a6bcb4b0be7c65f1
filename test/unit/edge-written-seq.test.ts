/** The isolate's newest acknowledged write position, and how it steers reads away from replicas behind it. */
import { describe, expect, it } from 'vitest';
import { readOrder, type RoutedNode, type RoutingTable } from '../../edge/router.ts';
import { laterSeq, noteWritten, writtenSeq } from '../../edge/written-seq.ts';

const node = (id: string, appliedSeq: string, role: RoutedNode['role'] = 'standby'): RoutedNode => ({
  id,
  url: `http://${id}`,
  priority: 100,
  role,
  state: 'up',
  appliedSeq,
  lagEntries: 0,
  lagMs: 0,
  overloaded: false,
});

describe('written-seq', () => {
  it('keeps the newest valid position it is shown, ignoring older and malformed ones', () => {
    noteWritten('1700000000005-0');
    noteWritten('1700000000001-7');
    noteWritten('garbage');
    noteWritten(undefined);
    expect(writtenSeq()).toBe('1700000000005-0');
    expect(laterSeq(undefined, writtenSeq())).toBe('1700000000005-0');
    expect(laterSeq('1700000000009-0', writtenSeq())).toBe('1700000000009-0');
  });

  it('as a read minimum: a replica not known to have the write goes after the master', () => {
    const table: RoutingTable = {
      master: 'm',
      epoch: 3,
      nodes: [node('m', '1700000000005-0', 'master'), node('behind', '1700000000004-0')],
      generatedAt: 0,
    };
    const options = {
      minSeq: '1700000000005-0',
      maxLagEntries: 100,
      maxBehindMs: 10_000,
      masterWeight: 100,
      load: () => ({ outstanding: 0, latencyMs: 1 }),
      random: Math.random,
    };
    for (let i = 0; i < 50; i++) expect(readOrder(table, options).map((n) => n.id)).toEqual(['m', 'behind']);
  });
});
