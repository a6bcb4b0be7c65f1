/**
 * Keyword sections (keyword/sections.ts) and what they do to ranking: a one-sentence answer deep
 * in a long handbook outranks a short page that holds the same words scattered, once the
 * handbook's best section counts beside its whole text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keywordSections, SECTION_TERMS } from '../../worker-node/keyword/sections.ts';
import { keywordTerms } from '../../worker-node/keyword/tokenize.ts';
import { MetadataStore } from '../../worker-node/metadata/store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const filler = (n: number) =>
  Array.from({ length: n }, (_, i) => `Section ${i} of the handbook covers office routine number ${i}.`).join(
    ' ',
  );

describe('keyword sections', () => {
  it('groups whole sentences into sections of about SECTION_TERMS terms, every term kept', () => {
    const text = `${filler(40)} 差旅住宿标准按城市等级确定。报销需要发票。`;
    const sections = keywordSections(text);
    expect(sections.length).toBeGreaterThan(5);
    const joined = sections.join(' ').split(' ');
    expect(joined).toEqual(keywordTerms(text));
    for (const s of sections.slice(0, -1))
      expect(s.split(' ').length).toBeLessThanOrEqual(SECTION_TERMS + 12);
    expect(keywordSections('One short line.')).toEqual(['one short line']);
    expect(keywordSections(' \n ')).toEqual([]);
  });

  it("ranks first the handbook whose one section holds the question's words together", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gte-sections-'));
    dirs.push(dir);
    const store = new MetadataStore(join(dir, 'metadata.sqlite'));
    // The same terms, as often, in texts of the same length: whole-text BM25 cannot tell them apart.
    const together = `${filler(300)} Forklift licences renewed safety officer. ${filler(300)} Alpha beta gamma delta epsilon.`;
    const apart = `${filler(300)} Forklift alpha licences beta renewed. ${filler(300)} Gamma safety delta officer epsilon.`;
    const others = [
      'Canteen menus change weekly.',
      'Parking permits are issued by reception.',
      'VPN tokens expire.',
    ];
    store.applyBatch(
      [['a-apart', apart], ['b-together', together], ...others.map((t, i) => [`other-${i}`, t])].map(
        ([id, text], i) => ({
          seq: `${i + 1}-0`,
          op: 'upsert' as const,
          id: id!,
          text: text!,
          metadata: {},
          vector: new Float32Array([1, 0]),
        }),
      ),
    );
    const query = 'forklift licences renewed safety officer';
    expect(store.keyword.search(query, 2, undefined, { sectionWeight: 3 }).map((h) => h.id)).toEqual([
      'b-together',
      'a-apart',
    ]);
    const wholeText = store.keyword.search(query, 2, undefined, { sectionWeight: 0 });
    expect(wholeText.map((h) => h.id)).toEqual(['a-apart', 'b-together']);
    expect(wholeText[0]!.score).toBeCloseTo(wholeText[1]!.score, 9);
    // Deleting a document removes its sections.
    store.applyBatch([{ seq: '20-0', op: 'delete', id: 'b-together' }]);
    const sections = store.db.prepare('SELECT COUNT(*) AS n FROM section_fts').get() as { n: number };
    expect(sections.n).toBe(keywordSections(apart).length + others.length);
  });
});
