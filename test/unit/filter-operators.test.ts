/**
 * Metadata filter operators: the request schema refuses what it cannot mean with a 400 naming the
 * field, and the SQL pre-filter (worker-node/metadata/filter-sql.ts over doc_meta) selects exactly
 * the documents the in-memory matcher (shared/search-filter.ts matchesFilter) accepts, over
 * random metadata and random filters of every operator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/corpus/random.ts';
import { describeZodError } from '../../shared/errors.ts';
import { SearchRequest } from '../../shared/schemas.ts';
import { type MetadataFilter, matchesFilter } from '../../shared/search-filter.ts';
import { type ApplyEntry, MetadataStore } from '../../worker-node/metadata/store.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function refusal(body: unknown) {
  const parsed = SearchRequest.safeParse(body);
  expect(parsed.success).toBe(false);
  return describeZodError(parsed.error!);
}

describe('search request validation', () => {
  it('refuses queries with nothing to search, naming the field', () => {
    for (const query of ['   ', '\n\t\r', '\u0000\u0007', '\u200b\u200d', 'ab\uD800', '\uDC00x']) {
      expect(refusal({ query }).field).toBe('query');
    }
    expect(SearchRequest.parse({ query: ' taxi ' }).mode).toBe('hybrid');
    expect(SearchRequest.parse({ query: '😀' }).query).toBe('😀');
  });

  it('refuses malformed filters, naming the field and the operator', () => {
    const f = (cond: unknown) => refusal({ query: 'x', filter: { metadata: { price: cond } } });
    expect(f({ $gt: true })).toMatchObject({
      field: 'filter.metadata.price',
      message: expect.stringContaining('$gt'),
    });
    expect(f({ $regex: 'a' })).toMatchObject({
      field: 'filter.metadata.price',
      message: expect.stringContaining('$regex'),
    });
    expect(f({})).toMatchObject({ field: 'filter.metadata.price' });
    expect(f([1, 2])).toMatchObject({ field: 'filter.metadata.price' });
    expect(f({ $in: [] }).field).toBe('filter.metadata.price.$in');
    expect(f({ $in: [{ a: 1 }] }).field).toMatch(/^filter\.metadata\.price/);
    expect(refusal({ query: 'x', mode: 'fuzzy' }).field).toBe('mode');
    const ok = SearchRequest.parse({
      query: 'x',
      filter: { metadata: { a: 1, b: { $in: ['x', 2, null] }, c: { $gte: 1, $lt: 5 }, d: { $ne: false } } },
    });
    expect(ok.filter?.metadata.c).toEqual({ $gte: 1, $lt: 5 });
  });
});

describe('SQL pre-filter and in-memory matcher agree', () => {
  it('selects the same documents for random filters over random metadata', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gte-filter-'));
    dirs.push(dir);
    const store = new MetadataStore(join(dir, 'metadata.sqlite'));
    const random = mulberry32(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const values = ['a', 'b', 'é', '😀', 'B', 0, 1, 2.5, -3, true, false, null] as const;
    const keys = ['lang', 'n', 'flag'];
    const docs = Array.from({ length: 300 }, (_, i) => {
      const metadata: Record<string, unknown> = {};
      for (const key of keys) if (random() < 0.7) metadata[key] = pick(values);
      return { id: `d-${i}`, metadata };
    });
    const entries: ApplyEntry[] = docs.map((d, i) => ({
      seq: `${i + 1}-0`,
      op: 'upsert',
      id: d.id,
      text: `document ${i}`,
      metadata: d.metadata,
      vector: new Float32Array([1, 0]),
    }));
    store.applyBatch(entries);
    const ranges = ['a', 'b', 'é', 0, 1, 2.5];
    const randomCondition = (): MetadataFilter[string] => {
      switch (Math.floor(random() * 6)) {
        case 0:
          return pick(values);
        case 1:
          return { $ne: pick(values) };
        case 2:
          return { $in: [pick(values), pick(values)] };
        case 3:
          return { $nin: [pick(values), pick(values)] };
        case 4:
          return { $gt: pick(ranges), $lte: pick(ranges) };
        default:
          return { [pick(['$gt', '$gte', '$lt', '$lte'])]: pick(ranges) };
      }
    };
    let partial = 0;
    for (let round = 0; round < 300; round++) {
      const filter: MetadataFilter = {};
      const n = 1 + Math.floor(random() * 2);
      for (let i = 0; i < n; i++) filter[pick(keys)] = randomCondition();
      const expected = docs.filter((d) => matchesFilter(d.metadata, filter)).map((d) => d.id);
      if (expected.length > 0 && expected.length < docs.length) partial++;
      const selected = store.keyword.matchingVectors(filter).map((r) => r.id);
      expect(selected.sort(), JSON.stringify(filter)).toEqual(expected.sort());
      expect(store.keyword.countMatching(filter, 10_000)).toBe(expected.length);
      // The pre-filter's cheap bound never undercounts.
      expect(store.keyword.matchBound(filter, 10_000)).toBeGreaterThanOrEqual(expected.length);
      const passing = store.keyword.passingIds(
        docs.map((d) => d.id),
        filter,
      );
      expect([...passing].sort()).toEqual(expected.sort());
    }
    // The filters were not all trivial (matching nothing or everything).
    expect(partial).toBeGreaterThan(150);
    store.close();
  });
});
