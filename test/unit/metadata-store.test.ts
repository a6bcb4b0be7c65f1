/**
 * The metadata store's apply rules (SQLite in process, no FAISS): a retried write never replaces a
 * newer version of an id, a delete is not undone by an older upsert, entries without a version
 * (logs written before versions) always apply, and the live count is kept without a table scan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApplyEntry, MetadataStore } from '../../worker-node/metadata/store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function openStore(): MetadataStore {
  const dir = mkdtempSync(join(tmpdir(), 'gte-store-'));
  dirs.push(dir);
  return new MetadataStore(join(dir, 'metadata.sqlite'));
}

let ms = 1;
const vector = new Float32Array([1, 0]);
const upsert = (id: string, text: string, version?: number): ApplyEntry => ({
  seq: `${ms++}-0`,
  op: 'upsert',
  id,
  text,
  metadata: {},
  vector,
  version,
});
const remove = (id: string, version?: number): ApplyEntry => ({
  seq: `${ms++}-0`,
  op: 'delete',
  id,
  version,
});

describe('MetadataStore.applyBatch with versions', () => {
  it('ignores the re-append of an older write after a newer one of the same id', () => {
    const store = openStore();
    store.applyBatch([upsert('a', 'first write', 10)]);
    store.applyBatch([upsert('a', 'newer write', 11)]);
    const retried = store.applyBatch([upsert('a', 'first write', 10)]);
    expect(retried).toEqual({ added: [], tombstoned: [], superseded: 1 });
    expect(store.getDocument('a')?.text).toBe('newer write');
    // The position still moves on: the entry was seen, it just changed nothing.
    expect(store.appliedSeq).toBe(`${ms - 1}-0`);
  });

  it('does not resurrect a deleted document from an older upsert', () => {
    const store = openStore();
    store.applyBatch([upsert('a', 'text', 3), remove('a', 4)]);
    store.applyBatch([upsert('a', 'text', 3)]);
    expect(store.getDocument('a')).toBeUndefined();
    store.applyBatch([upsert('a', 'written again', 5)]);
    expect(store.getDocument('a')?.text).toBe('written again');
  });

  it('applies unversioned entries in log order, as before versions existed', () => {
    const store = openStore();
    store.applyBatch([upsert('a', 'one'), upsert('a', 'two')]);
    expect(store.getDocument('a')).toMatchObject({ text: 'two', version: 2 });
  });

  it('reports the applied position a batch reached, and keeps it where the data is when a batch fails', () => {
    const store = openStore();
    expect(store.appliedSeq).toBe('0-0');
    store.applyBatch([upsert('a', 'one'), upsert('b', 'two')]);
    const reached = `${ms - 1}-0`;
    expect(store.appliedSeq).toBe(reached);
    // A batch that fails at its second entry rolls back whole, position included.
    const good = upsert('d', 'three');
    const bad = Object.defineProperty(upsert('c', 'x'), 'text', {
      get: () => {
        throw new Error('unreadable entry');
      },
    });
    expect(() => store.applyBatch([good, bad])).toThrow('unreadable entry');
    expect(store.appliedSeq).toBe(reached);
    expect(store.getDocument('d')).toBeUndefined();
    expect(store.getState('applied_seq')).toBe(reached);
    store.applyBatch([upsert('e', 'four')]);
    expect(store.appliedSeq).toBe(`${ms - 1}-0`);
    expect(store.getState('applied_seq')).toBe(store.appliedSeq);
  });

  it('keeps the live count in step with upserts and deletes', () => {
    const store = openStore();
    store.applyBatch([upsert('a', 'x'), upsert('b', 'x'), upsert('a', 'y'), remove('c'), remove('b')]);
    expect(store.documentCount).toBe(1);
    const reopened = new MetadataStore(store.path);
    expect(reopened.documentCount).toBe(1);
    reopened.close();
    store.close();
  });

  it('renumbers labels densely and starts a new generation', () => {
    const store = openStore();
    store.applyBatch([upsert('a', 'x'), upsert('b', 'x'), upsert('a', 'y'), upsert('c', 'z')]);
    const generation = store.generation;
    store.compact();
    expect(store.labelMap()).toEqual(['b', 'a', 'c']);
    expect(store.nextLabel).toBe(3);
    expect(store.generation).toBe(generation + 1);
    expect(store.compactionInterrupted).toBe(false);
    store.close();
  });
});

describe('MetadataStore passages', () => {
  const passage = (start: number, end: number) => ({ start, end, vector });
  const withPassages = (id: string, text: string, spans: [number, number][]): ApplyEntry => ({
    seq: `${ms++}-0`,
    op: 'upsert',
    id,
    text,
    metadata: {},
    passages: spans.map(([s, e]) => passage(s, e)),
  });

  it('gives each passage a label; re-ingesting tombstones all of them, deleting too', () => {
    const store = openStore();
    const first = store.applyBatch([
      withPassages('a', 'one two three', [
        [0, 7],
        [4, 13],
      ]),
    ]);
    expect(first.added.map((p) => [p.label, p.id, p.ordinal])).toEqual([
      [0, 'a', 0],
      [1, 'a', 1],
    ]);
    expect(store.spansOf(['a']).get('a')).toEqual([
      { start: 0, end: 7 },
      { start: 4, end: 13 },
    ]);
    const again = store.applyBatch([withPassages('a', 'one', [[0, 3]])]);
    expect(again.tombstoned).toEqual([0, 1]);
    expect(again.added.map((p) => p.label)).toEqual([2]);
    expect(store.labelMap()).toEqual([null, null, 'a']);
    const removed = store.applyBatch([remove('a')]);
    expect(removed.tombstoned).toEqual([2]);
    expect(store.spansOf(['a']).get('a')).toEqual([]);
    expect(store.documentCount).toBe(0);
    store.close();
  });

  it('applies an entry from before passages (one vector) as one passage over the whole text', () => {
    const store = openStore();
    store.applyBatch([upsert('old', 'written before passages')]);
    expect(store.spansOf(['old']).get('old')).toEqual([{ start: 0, end: 23 }]);
    expect(store.passageMap()).toEqual({ ids: ['old'], ordinals: [0] });
    const page = store.labels.livePage(-1, 10);
    expect(page.labels).toEqual([0]);
    expect(page.vectors).toEqual(vector);
    store.close();
  });

  it('compacts passages in label order, and recovers from a renumbering cut short', () => {
    const store = openStore();
    store.applyBatch([
      withPassages('a', 'abc', [
        [0, 1],
        [1, 3],
      ]),
      withPassages('b', 'xyz', [[0, 3]]),
      withPassages('a', 'abcd', [
        [0, 2],
        [2, 4],
      ]),
    ]);
    // Live: b at 2, a's passages at 3 and 4. Cut short after its first row: b at 0, a not moved.
    store.beginCompaction();
    store.labels.renumberChunk([2], 0);
    store.compact();
    expect(store.passageMap()).toEqual({ ids: ['b', 'a', 'a'], ordinals: [0, 0, 1] });
    expect(store.compactionInterrupted).toBe(false);
    store.close();
  });

  it('renumbers in one pass in rank order, and refuses labels out of order', () => {
    const store = openStore();
    store.applyBatch([
      withPassages('a', 'abc', [[0, 3]]),
      withPassages('b', 'xyz', [
        [0, 1],
        [1, 3],
      ]),
      withPassages('a', 'abcd', [[0, 4]]),
      withPassages('c', 'cc', [[0, 2]]),
    ]);
    // Live: b at 1 and 2, a at 3, c at 4 (label 0 was a's first version).
    expect(() => store.labels.renumber([2, 1, 3, 4], 2)).toThrow(/ascending/);
    expect(() => store.labels.renumber([-1, 1, 2, 3], 2)).toThrow(/at or above its rank/);
    expect(store.compactionInterrupted).toBe(false);
    store.labels.renumber([1, 2, 3, 4], 3);
    expect(store.compactionInterrupted).toBe(true);
    store.finishCompaction(4);
    expect(store.passageMap()).toEqual({ ids: ['b', 'b', 'a', 'c'], ordinals: [0, 1, 0, 0] });
    store.close();
  });
});
