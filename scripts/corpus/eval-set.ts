/**
 * The labelled evaluation set behind `npm run eval`: about 1,100 documents of an enterprise
 * knowledge base (expense and HR policy pages in English and Chinese, runbooks, post-mortems,
 * IT tickets, invoices, long regional handbooks) and 400 questions in four categories of 100,
 * each hard for a reason real knowledge bases are hard:
 *
 * - `long`: the answer is one sentence deep inside a 10,000-100,000 character handbook (past its
 *   first 2,000 characters), among handbooks on the same topics for the same sites; half the
 *   questions use the fact's own words (inflected), half other words;
 * - `exact`: the question names an identifier whose near misses name look-alike documents;
 * - `paraphrase`: the question says a policy rule (item × action × condition) in other words:
 *   each part by a synonym or in another inflection, at least one by a synonym; other rules share
 *   two of its three parts;
 * - `chinese`: the same in Chinese, with colloquial words for the policy's terms.
 *
 * Built from word lists (eval-words-*.ts, eval-identifiers.ts, eval-long.ts) by the one seeded
 * PRNG, so a seed gives the same set on every machine. Nothing here looks at how search works.
 * A seeded hash of each question puts about 40 % of them in the held-out split, which must never
 * be used to tune retrieval.
 */
import {
  type IdentifierKind,
  identifierDocument,
  identifierFamily,
  identifierQuestion,
} from './eval-identifiers.ts';
import { DOMAINS, LONG_TOPICS, longDocument, REGIONS } from './eval-long.ts';
import { ACTIONS, CONDITIONS, type Concept, ITEMS, POLICY_PAGES, RULE_DETAILS } from './eval-words-en.ts';
import { ACTIONS_ZH, CONDITIONS_ZH, ITEMS_ZH, POLICY_PAGES_ZH, RULE_DETAILS_ZH } from './eval-words-zh.ts';
import { fnv1a, intBetween, mulberry32, pick, type Random, shuffled } from './random.ts';

/** Bump when the generator's output changes, so a stored set is rebuilt. */
export const EVAL_SET_VERSION = 1;
export const EVAL_SEED = 20_261_202;

export const EVAL_CATEGORIES = ['long', 'exact', 'paraphrase', 'chinese'] as const;
export type EvalCategory = (typeof EVAL_CATEGORIES)[number];
export type EvalSplit = 'tuning' | 'heldout';

/** What the set promises (its unit test holds it to this). */
export const EVAL_SHAPE = {
  queriesPerCategory: 100,
  minDocuments: 1000,
  heldOutPercent: 40,
  /** A long question's answer starts at least this far into its document. */
  longAnswerMinOffset: 2000,
  longMinChars: 10_000,
  longMaxChars: 100_000,
  longDocuments: DOMAINS.length * REGIONS.length * 5,
  policyRules: 340,
  identifierFamilySize: 5,
  identifierFamiliesPerKind: 14,
} as const;

export interface EvalDocument {
  id: string;
  text: string;
  metadata: { category: EvalCategory; lang: 'en' | 'zh'; kind: string; title: string };
}

export interface EvalQuery {
  id: string;
  query: string;
  lang: 'en' | 'zh';
  category: EvalCategory;
  split: EvalSplit;
  /** Graded relevance: 1 = answers the question (every document that does is listed). */
  relevant: Record<string, number>;
  /** `long`: where the answer starts in its document. */
  answerOffset?: number;
  /** The parts of the rule or fact the question says in other words (synonyms), not inflections. */
  synonyms?: ('action' | 'item' | 'condition' | 'topic')[];
  /** `exact`: the identifier asked about, and its near misses that name other documents. */
  identifier?: string;
  nearMisses?: string[];
}

export interface EvalSet {
  version: number;
  seed: number;
  documents: EvalDocument[];
  queries: EvalQuery[];
}

/** The split of a question: a seeded hash of its text, so it never depends on results. */
export function splitOf(query: string, seed = EVAL_SEED): EvalSplit {
  return fnv1a(`${seed}\u0000${query}`) % 100 < EVAL_SHAPE.heldOutPercent ? 'heldout' : 'tuning';
}

const fill = (template: string, slots: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => slots[k] ?? `{${k}}`);
const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const seq = (n: number) => String(n).padStart(4, '0');

interface Built {
  documents: EvalDocument[];
  queries: Omit<EvalQuery, 'id' | 'split'>[];
}

/** Policy rules (item × action × condition), each on its own page; questions on some of them. */
function policyRules(rand: Random, lang: 'en' | 'zh'): Built {
  const zh = lang === 'zh';
  const [items, actions, conds] = zh ? [ITEMS_ZH, ACTIONS_ZH, CONDITIONS_ZH] : [ITEMS, ACTIONS, CONDITIONS];
  const combos: [Concept, Concept, Concept][] = [];
  for (const i of items) for (const a of actions) for (const c of conds) combos.push([i, a, c]);
  const chosen = shuffled(rand, combos).slice(0, EVAL_SHAPE.policyRules);
  const category: EvalCategory = zh ? 'chinese' : 'paraphrase';
  const documents: EvalDocument[] = [];
  const queries: Built['queries'] = [];
  chosen.forEach(([item, action, cond], n) => {
    const page = pick(rand, zh ? POLICY_PAGES_ZH : POLICY_PAGES);
    const itemDoc = pick(rand, item.doc);
    const slots = {
      item: itemDoc,
      Item: capitalise(itemDoc),
      cond: pick(rand, cond.doc),
      amount: zh ? String(intBetween(rand, 2, 40) * 50) : `EUR ${intBetween(rand, 2, 40) * 25}`,
      days: String(pick(rand, [30, 45, 60, 90])),
    };
    const details = zh ? RULE_DETAILS_ZH : RULE_DETAILS;
    const rule = fill(pick(rand, action.doc), slots);
    const sep = zh ? '' : ' ';
    const [first, second] = shuffled(rand, details);
    const text = `${page}${zh ? '：' : ': '}${rule}${sep}${first}${sep}${second}`;
    const id = `${zh ? 'zh-rule' : 'rule'}-${seq(n)}`;
    documents.push({
      id,
      text,
      metadata: { category, lang, kind: 'policy', title: `${page} ${item.key}/${action.key}/${cond.key}` },
    });
    if (n < EVAL_SHAPE.queriesPerCategory) {
      // Each part in other words or in other inflections, by a coin each; never all inflected.
      const bySynonym = [rand() < 0.5, rand() < 0.5, rand() < 0.5];
      if (!bySynonym.includes(true)) bySynonym[intBetween(rand, 0, 2)] = true;
      const say = (c: Concept, i: number) => pick(rand, bySynonym[i] ? c.synonym : c.inflected);
      const query = fill(say(action, 0), { item: say(item, 1), cond: say(cond, 2) });
      queries.push({
        query: zh ? query : capitalise(query),
        lang,
        category,
        relevant: { [id]: 1 },
        synonyms: (['action', 'item', 'condition'] as const).filter((_, i) => bySynonym[i]),
      });
    }
  });
  return { documents, queries };
}

const KINDS: readonly IdentifierKind[] = ['error-code', 'host', 'ticket', 'invoice'];

/** Families of near-miss identifiers, one document per member; questions on some members. */
function identifiers(rand: Random): Built {
  const documents: EvalDocument[] = [];
  const members: { kind: IdentifierKind; id: string; docId: string; family: string[] }[] = [];
  const used = new Set<string>();
  for (const kind of KINDS)
    for (let f = 0; f < EVAL_SHAPE.identifierFamiliesPerKind; f++) {
      let family = identifierFamily(rand, kind, f, EVAL_SHAPE.identifierFamilySize);
      // Families of one kind must not share a member, or a question would have two answers.
      while (
        family.members.some((m) => used.has(m)) ||
        new Set(family.members).size !== family.members.length
      )
        family = identifierFamily(rand, kind, f, EVAL_SHAPE.identifierFamilySize);
      for (const id of family.members) {
        used.add(id);
        const docId = `${kind}-${seq(documents.length)}`;
        const { title, text } = identifierDocument(rand, family, id);
        documents.push({ id: docId, text, metadata: { category: 'exact', lang: 'en', kind, title } });
        members.push({ kind, id, docId, family: family.members });
      }
    }
  const perKind = EVAL_SHAPE.queriesPerCategory / KINDS.length;
  const queries: Built['queries'] = [];
  for (const kind of KINDS) {
    const asked = new Map<string, number>();
    let count = 0;
    for (const m of shuffled(
      rand,
      members.filter((x) => x.kind === kind),
    )) {
      if (count >= perKind) break;
      // At most two questions per family, so the category is not a few families asked many times.
      const family = m.family[0]!;
      if ((asked.get(family) ?? 0) >= 2) continue;
      asked.set(family, (asked.get(family) ?? 0) + 1);
      count++;
      queries.push({
        query: capitalise(identifierQuestion(rand, kind, m.id)),
        lang: 'en',
        category: 'exact',
        relevant: { [m.docId]: 1 },
        identifier: m.id,
        nearMisses: m.family.filter((x) => x !== m.id),
      });
    }
  }
  return { documents, queries };
}

/** Regional handbooks; every (topic, site) fact in exactly one; questions on deep facts. */
function handbooks(rand: Random): Built {
  const parts = EVAL_SHAPE.longDocuments / (DOMAINS.length * REGIONS.length);
  const facts = new Map<string, { topic: (typeof LONG_TOPICS)[number]; site: string }[]>();
  const key = (domain: string, region: string, part: number) => `${domain}|${region}|${part}`;
  for (const topic of LONG_TOPICS)
    for (const region of REGIONS)
      for (const site of region.sites) {
        const k = key(topic.domain, region.name, intBetween(rand, 1, parts));
        facts.set(k, [...(facts.get(k) ?? []), { topic, site }]);
      }
  const documents: EvalDocument[] = [];
  const deep: { docId: string; topic: string; site: string; offset: number }[] = [];
  const { longMinChars: lo, longMaxChars: hi, longAnswerMinOffset } = EVAL_SHAPE;
  for (const domain of DOMAINS)
    for (const region of REGIONS)
      for (let part = 1; part <= parts; part++) {
        // Log-uniform lengths: most handbooks are tens of thousands of characters, a few near the cap.
        const length = Math.round(lo * ((hi * 0.95) / lo) ** rand());
        const docId = `handbook-${seq(documents.length)}`;
        const doc = longDocument(
          rand,
          domain,
          region,
          part,
          facts.get(key(domain, region.name, part)) ?? [],
          length,
          docId,
        );
        documents.push({
          id: docId,
          text: doc.text,
          metadata: { category: 'long', lang: 'en', kind: 'handbook', title: doc.title },
        });
        for (const f of doc.facts) if (f.offset >= longAnswerMinOffset) deep.push({ docId, ...f });
      }
  const queries = shuffled(rand, deep)
    .slice(0, EVAL_SHAPE.queriesPerCategory)
    .map((f) => {
      const topic = LONG_TOPICS.find((t) => t.key === f.topic)!;
      const bySynonym = rand() < 0.5;
      return {
        query: capitalise(pick(rand, bySynonym ? topic.synonym : topic.inflected).replace('{site}', f.site)),
        lang: 'en' as const,
        category: 'long' as const,
        relevant: { [f.docId]: 1 },
        answerOffset: f.offset,
        synonyms: bySynonym ? ['topic' as const] : [],
      };
    });
  return { documents, queries };
}

/** The whole set for `seed`: the same documents, questions, labels and splits every time. */
export function buildEvalSet(seed = EVAL_SEED): EvalSet {
  const stream = (name: string) => mulberry32(fnv1a(name, seed));
  const parts = [
    handbooks(stream('long')),
    identifiers(stream('exact')),
    policyRules(stream('paraphrase'), 'en'),
    policyRules(stream('chinese'), 'zh'),
  ];
  const queries: EvalQuery[] = [];
  const texts = new Set<string>();
  for (const q of parts.flatMap((p) => p.queries)) {
    if (texts.has(q.query)) throw new Error(`two questions read the same: ${q.query}`);
    texts.add(q.query);
    queries.push({ id: `q-${seq(queries.length)}`, split: splitOf(q.query, seed), ...q });
  }
  return { version: EVAL_SET_VERSION, seed, documents: parts.flatMap((p) => p.documents), queries };
}
