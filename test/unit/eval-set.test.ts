import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nearMissDigits } from '../../scripts/corpus/eval-identifiers.ts';
import { REGIONS } from '../../scripts/corpus/eval-long.ts';
import {
  buildEvalSet,
  EVAL_CATEGORIES,
  EVAL_SEED,
  EVAL_SHAPE,
  type EvalSet,
  splitOf,
} from '../../scripts/corpus/eval-set.ts';
import { mulberry32 } from '../../scripts/corpus/random.ts';

const digest = (set: EvalSet) => createHash('sha256').update(JSON.stringify(set)).digest('hex');
const set = buildEvalSet();
const docs = new Map(set.documents.map((d) => [d.id, d]));
/** Which documents name each identifier-like token whole (PAY-7782 is not inside PAY-77821). */
const namedBy = new Map<string, string[]>();
for (const d of set.documents)
  for (const token of new Set(d.text.match(/[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*/g) ?? []))
    namedBy.set(token, [...(namedBy.get(token) ?? []), d.id]);

describe('evaluation set', () => {
  it('is the same for the same seed, and another for another seed', () => {
    expect(digest(buildEvalSet())).toBe(digest(set));
    const other = buildEvalSet(EVAL_SEED + 1);
    expect(other.queries.map((q) => q.query)).not.toEqual(set.queries.map((q) => q.query));
  });

  it('has the stated size: 1,000+ documents, 100 questions per category, in English and Chinese', () => {
    expect(set.documents.length).toBeGreaterThanOrEqual(EVAL_SHAPE.minDocuments);
    expect(set.queries.length).toBeGreaterThanOrEqual(200);
    for (const c of EVAL_CATEGORIES)
      expect(set.queries.filter((q) => q.category === c)).toHaveLength(EVAL_SHAPE.queriesPerCategory);
    expect(set.queries.filter((q) => q.lang === 'zh').every((q) => q.category === 'chinese')).toBe(true);
    expect(set.documents.filter((d) => d.metadata.lang === 'zh').length).toBeGreaterThanOrEqual(300);
    expect(new Set(set.documents.map((d) => d.id)).size).toBe(set.documents.length);
    expect(new Set(set.queries.map((q) => q.query)).size).toBe(set.queries.length);
  });

  it('labels only documents that exist, and every document fits the node limits', () => {
    for (const q of set.queries) {
      expect(Object.keys(q.relevant).length).toBeGreaterThan(0);
      for (const id of Object.keys(q.relevant)) expect(docs.has(id), `${q.id} labels ${id}`).toBe(true);
    }
    for (const d of set.documents) expect(d.text.length).toBeLessThanOrEqual(100_000);
  });

  it('holds out about 40 % of the questions by a hash of their text, in every category', () => {
    const held = set.queries.filter((q) => q.split === 'heldout');
    expect(held.length / set.queries.length).toBeGreaterThan(0.3);
    expect(held.length / set.queries.length).toBeLessThan(0.5);
    for (const c of EVAL_CATEGORIES)
      expect(held.filter((q) => q.category === c).length).toBeGreaterThanOrEqual(25);
    for (const q of set.queries) expect(q.split).toBe(splitOf(q.query));
  });

  it('long: handbooks of 10,000-100,000 characters answer each question past the first 2,000, once', () => {
    const handbooks = set.documents.filter((d) => d.metadata.category === 'long');
    expect(handbooks).toHaveLength(EVAL_SHAPE.longDocuments);
    for (const d of handbooks) {
      expect(d.text.length).toBeGreaterThanOrEqual(EVAL_SHAPE.longMinChars);
      expect(d.text.length).toBeLessThanOrEqual(EVAL_SHAPE.longMaxChars);
    }
    for (const q of set.queries.filter((x) => x.category === 'long')) {
      const [id] = Object.keys(q.relevant);
      const text = docs.get(id!)!.text;
      expect(q.answerOffset!).toBeGreaterThanOrEqual(EVAL_SHAPE.longAnswerMinOffset);
      const answer = text.slice(q.answerOffset!, text.indexOf('.', q.answerOffset!) + 1);
      const sites = REGIONS.flatMap((r) => r.sites).filter((site) => answer.includes(site));
      expect(sites, answer).toHaveLength(1);
      expect(q.query, `${q.id}: ${answer}`).toContain(sites[0]);
      // The answering sentence (its fact without the drawn numbers) is stated in no other document.
      const stem = answer.split(/\d/)[0]!;
      const elsewhere = set.documents.filter((d) => d.id !== id && d.text.includes(stem));
      expect(
        elsewhere.map((d) => d.id),
        answer,
      ).toEqual([]);
    }
  });

  it('exact: the asked identifier is in its document only, and its near misses name other documents', () => {
    const exact = set.queries.filter((q) => q.category === 'exact');
    for (const q of exact) {
      const [id] = Object.keys(q.relevant);
      expect(q.query).toContain(q.identifier!);
      expect(namedBy.get(q.identifier!)).toEqual([id]);
      expect(q.nearMisses!.length).toBeGreaterThanOrEqual(3);
      for (const miss of q.nearMisses!) {
        const named = namedBy.get(miss) ?? [];
        expect(named.length, miss).toBe(1);
        expect(named[0]).not.toBe(id);
      }
    }
    const shapes = [/^[A-Z]+-\d{4}$/, /^[a-z]+-(prod|stage)-\d{2}$/, /^KB\d{7}$/, /^\d{12}$/];
    for (const shape of shapes)
      expect(exact.filter((q) => shape.test(q.identifier!)).length).toBeGreaterThanOrEqual(20);
  });

  it('paraphrase and chinese: every question says at least one part of its rule in other words', () => {
    for (const q of set.queries.filter((x) => x.category === 'paraphrase' || x.category === 'chinese')) {
      expect(q.synonyms!.length).toBeGreaterThan(0);
      expect(q.lang).toBe(q.category === 'chinese' ? 'zh' : 'en');
      expect(docs.get(Object.keys(q.relevant)[0]!)!.metadata.lang).toBe(q.lang);
    }
  });

  it('near misses of a digit string differ from it and keep its width', () => {
    const misses = nearMissDigits(mulberry32(1), '007782', 4);
    expect(misses).toHaveLength(4);
    for (const m of misses) {
      expect(m).toHaveLength(6);
      expect(m).not.toBe('007782');
    }
    expect(misses).toContain('007783');
  });
});
