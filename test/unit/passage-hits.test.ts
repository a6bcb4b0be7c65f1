/**
 * From passages to documents (worker-node/passage-hits.ts), and a document's passages through the
 * change log (worker-node/replication/change-log.ts): one entry carries every passage, and an
 * entry written before passages still decodes, as one passage over the whole text.
 */
import { describe, expect, it } from 'vitest';
import { bestPerDocument, passageForTerms } from '../../worker-node/passage-hits.ts';
import { decodePassages, encodeUpsert, encodeVector } from '../../worker-node/replication/entry-codec.ts';

describe('bestPerDocument', () => {
  it('keeps one entry per document at its best passage, best documents first, ties by id', () => {
    const grouped = bestPerDocument([
      { id: 'b', ordinal: 0, score: 0.5 },
      { id: 'a', ordinal: 3, score: 0.9 },
      { id: 'b', ordinal: 7, score: 0.95 },
      { id: 'a', ordinal: 1, score: 0.2 },
      { id: 'c', ordinal: 2, score: 0.9 },
      { id: 'c', ordinal: 1, score: 0.9 },
    ]);
    expect(grouped).toEqual([
      { id: 'b', ordinal: 7, score: 0.95 },
      { id: 'a', ordinal: 3, score: 0.9 },
      { id: 'c', ordinal: 1, score: 0.9 },
    ]);
  });
});

describe('passageForTerms', () => {
  const text =
    'Hotel rooms are booked by the office. Meals are paid per diem. Taxis to airports are reimbursed.';
  const spans = [
    { start: 0, end: 38 },
    { start: 38, end: 63 },
    { start: 63, end: text.length },
  ];

  it('shows the passage holding most of the query terms, inflections folded', () => {
    expect(passageForTerms(text, spans, 'taxi reimbursement airport')).toEqual(spans[2]);
    expect(passageForTerms(text, spans, 'meal per diem')).toEqual(spans[1]);
  });

  it('falls back to the first passage, or the whole text when there are no spans', () => {
    expect(passageForTerms(text, spans, 'nothing matches')).toEqual(spans[0]);
    expect(passageForTerms(text, [], 'taxi')).toEqual({ start: 0, end: text.length });
  });
});

describe('passages in the change log', () => {
  it('encodes every passage of an upsert in one entry, and decodes them back', () => {
    const passages = [
      { start: 0, end: 10, vector: Float32Array.from([1, 0, 0]) },
      { start: 8, end: 20, vector: Float32Array.from([0, 0.6, 0.8]) },
    ];
    const { doc, vec } = encodeUpsert({
      op: 'upsert',
      id: 'x',
      text: 't'.repeat(20),
      metadata: { a: 1 },
      passages,
    });
    const parsed = JSON.parse(doc) as { text: string; metadata: object; passages: number[][] };
    expect(parsed).toEqual({
      text: 't'.repeat(20),
      metadata: { a: 1 },
      passages: [
        [0, 10],
        [8, 20],
      ],
    });
    expect(decodePassages(parsed.passages, vec)).toEqual(passages);
  });

  it('reads an entry from before passages as having none (one vector for the whole text)', () => {
    expect(decodePassages(undefined, encodeVector(Float32Array.from([1, 2])))).toBeNull();
  });

  it('refuses an entry whose vectors do not divide among its passages', () => {
    expect(() =>
      decodePassages(
        [
          [0, 1],
          [1, 2],
        ],
        encodeVector(Float32Array.from([1, 2, 3])),
      ),
    ).toThrow(/3 floats for 2 passages/);
  });
});
