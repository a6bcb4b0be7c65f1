/**
 * The keyword terms of a text (worker-node/keyword/tokenize.ts): identifiers whole and in parts,
 * Chinese as words and bigrams, and MATCH expressions that no query can break.
 */
import { describe, expect, it } from 'vitest';
import { keywordMatch, keywordTerms } from '../../worker-node/keyword/tokenize.ts';

describe('keyword terms', () => {
  it('keeps identifiers whole and makes their parts searchable', () => {
    expect(keywordTerms('Error PAY-7782 on db-prod-07')).toEqual([
      'error',
      'pay7782',
      'pay',
      '7782',
      'on',
      'dbprod07',
      'db',
      'prod',
      '07',
    ]);
    expect(keywordTerms('see KB0012345')).toEqual(['see', 'kb0012345', 'kb', '0012345']);
    expect(keywordTerms('invoice 202311150012')).toEqual(['invoice', '202311150012']);
  });

  it('segments Chinese into words and character bigrams', () => {
    const terms = keywordTerms('电子发票');
    expect(terms).toEqual(expect.arrayContaining(['电子', '发票', '子发']));
    // Mixed text: the Latin words keep their own terms.
    expect(keywordTerms('报销 VPN 账号')).toEqual(expect.arrayContaining(['报销', 'vpn', '账号']));
  });

  it('adds single Chinese characters, so a colloquial word meets the formal one it shares one with', () => {
    const terms = keywordTerms('报销');
    expect(terms).toContain('报');
    expect(terms).toContain('销');
    const asked = new Set(keywordTerms('报账'));
    expect(keywordTerms('差旅费用报销流程').some((t) => asked.has(t))).toBe(true);
  });

  it('builds an OR of quoted distinct terms, or null when there is no term', () => {
    expect(keywordMatch('taxi "reimbursement" taxi')).toBe('"taxi" OR "reimbursement"');
    expect(keywordMatch('!!! ???')).toBeNull();
    expect(keywordMatch('NEAR(a b) OR x*')).toBe('"near" OR "a" OR "b" OR "or" OR "x"');
  });
});
