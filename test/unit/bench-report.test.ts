import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { histogramTotals, meanOf, subtractTotals, addTotals } from '../../scripts/bench/prom.ts';
import { replaceSection, writeSections } from '../../scripts/bench/report.ts';

describe('replaceSection', () => {
  it('starts a new document with the header, then appends', () => {
    const doc = replaceSection('', 'node', '## Node\nfirst');
    expect(doc).toMatch(/^# GTE-Pro benchmarks/);
    expect(doc).toContain('<!-- bench:node:begin -->\n## Node\nfirst\n<!-- bench:node:end -->');
    const two = replaceSection(doc, 'edge', 'edge body');
    expect(two.indexOf('bench:node:begin')).toBeLessThan(two.indexOf('bench:edge:begin'));
  });

  it('replaces a section in place and leaves the others alone', () => {
    let doc = replaceSection('', 'a', 'one');
    doc = replaceSection(doc, 'b', 'two');
    doc = replaceSection(doc, 'a', 'ONE');
    expect(doc).toContain('ONE');
    expect(doc).not.toContain('\none\n');
    expect(doc).toContain('two');
    expect(doc.indexOf('ONE')).toBeLessThan(doc.indexOf('two'));
    expect(doc.match(/bench:a:begin/g)).toHaveLength(1);
  });

  it('keeps text the user wrote outside the markers', () => {
    const doc = replaceSection('# Mine\n\nnotes\n', 'x', 'body');
    expect(doc.startsWith('# Mine\n\nnotes\n\n<!-- bench:x:begin -->')).toBe(true);
  });

  it('refuses a key that could break the markers', () => {
    expect(() => replaceSection('', 'a b', 'x')).toThrow(/lowercase/);
  });

  it('writes sections to a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    try {
      const file = join(dir, 'B.md');
      writeSections(file, [{ key: 'a', body: 'x' }]);
      writeSections(file, [{ key: 'a', body: 'y' }]);
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('\ny\n');
      expect(text).not.toContain('\nx\n');
      expect(text.endsWith('\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('histogramTotals', () => {
  const scrape = (
    embedSum: number,
    embedCount: number,
  ) => `# HELP gte_node_search_stage_seconds Search time split by stage
# TYPE gte_node_search_stage_seconds histogram
gte_node_search_stage_seconds_bucket{le="0.001",stage="embed"} 0
gte_node_search_stage_seconds_sum{stage="embed"} ${embedSum}
gte_node_search_stage_seconds_count{stage="embed"} ${embedCount}
gte_node_search_stage_seconds_sum{stage="search"} 0.5
gte_node_search_stage_seconds_count{stage="search"} 100
gte_node_embed_batch_size_sum 40
gte_node_embed_batch_size_count 10
gte_node_search_stage_seconds_other 3
`;

  it('reads sum and count per label value', () => {
    const t = histogramTotals(scrape(0.2, 100), 'gte_node_search_stage_seconds', 'stage');
    expect(t.get('embed')).toEqual({ sum: 0.2, count: 100 });
    expect(t.get('search')).toEqual({ sum: 0.5, count: 100 });
    expect(t.size).toBe(2);
    expect(histogramTotals(scrape(0, 0), 'gte_node_embed_batch_size').get('')).toEqual({
      sum: 40,
      count: 10,
    });
  });

  it('gives the mean of what was observed between two scrapes, accumulated over rounds', () => {
    const name = 'gte_node_search_stage_seconds';
    const d1 = subtractTotals(
      histogramTotals(scrape(1.2, 300), name, 'stage'),
      histogramTotals(scrape(0.2, 100), name, 'stage'),
    );
    expect(meanOf(d1.get('embed'))).toBeCloseTo(5); // 1 s over 200 searches
    expect(meanOf(d1.get('search'))).toBeNaN(); // nothing observed in between
    const both = addTotals(d1, new Map([['embed', { sum: 0.2, count: 200 }]]));
    expect(meanOf(both.get('embed'))).toBeCloseTo(3); // 1.2 s over 400
    expect(meanOf(undefined)).toBeNaN();
  });
});
