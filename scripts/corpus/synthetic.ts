/**
 * The one synthetic corpus: enterprise-ish sentences built from word lists by the seeded PRNG
 * (random.ts), for the benchmarks and for the tests that need more documents than the sample
 * knowledge base holds. Every run (and every machine) gets the same texts, and every word is
 * common English, so the GloVe demo model knows it and the vectors are distinct: no two documents
 * tie on score, within a prefix or across prefixes.
 *
 * @example
 *   const docs = benchDocs(0, 256);          // ids bench-0000000 .. bench-0000255
 *   const more = syntheticDocs(300, 'rep');  // ids rep-0000000 .. rep-0000299
 *   const qs = benchQueries(500);            // 500 short questions in the same vocabulary
 */
import { fnv1a, mulberry32, pick } from './random.ts';

export interface SyntheticDoc {
  id: string;
  text: string;
  metadata: Record<string, string | number>;
}

/** The benchmarks' prefix; it adds nothing to the seed, so BENCHMARKS.md was measured on these texts. */
const BENCH_PREFIX = 'bench';

const TEAMS = [
  'finance',
  'legal',
  'security',
  'sales',
  'support',
  'engineering',
  'marketing',
  'operations',
  'research',
  'procurement',
  'compliance',
  'infrastructure',
  'payroll',
  'recruiting',
  'logistics',
  'quality',
];
const REGIONS = [
  'europe',
  'asia',
  'africa',
  'america',
  'canada',
  'germany',
  'france',
  'japan',
  'brazil',
  'india',
  'australia',
  'mexico',
];
const VERBS = [
  'approved',
  'reviewed',
  'updated',
  'rejected',
  'submitted',
  'audited',
  'migrated',
  'restored',
  'renewed',
  'cancelled',
  'escalated',
  'archived',
  'deployed',
  'tested',
  'signed',
  'scheduled',
  'delayed',
  'completed',
  'requested',
  'published',
];
const ADJECTIVES = [
  'annual',
  'quarterly',
  'monthly',
  'new',
  'old',
  'critical',
  'internal',
  'external',
  'shared',
  'remote',
  'secure',
  'temporary',
  'regional',
  'global',
  'urgent',
  'final',
  'draft',
  'standard',
  'custom',
  'legacy',
];
const OBJECTS = [
  'contract',
  'invoice',
  'budget',
  'policy',
  'report',
  'license',
  'server',
  'database',
  'password',
  'account',
  'laptop',
  'network',
  'firewall',
  'backup',
  'schedule',
  'salary',
  'benefit',
  'travel',
  'expense',
  'vendor',
  'customer',
  'order',
  'shipment',
  'warehouse',
  'payment',
  'refund',
  'ticket',
  'incident',
  'outage',
  'certificate',
  'printer',
  'email',
  'calendar',
  'meeting',
  'training',
  'audit',
  'forecast',
  'proposal',
  'agreement',
  'insurance',
  'pension',
  'holiday',
  'badge',
  'office',
  'software',
  'hardware',
  'storage',
  'cluster',
  'website',
  'application',
];
const REASONS = [
  'after the security review',
  'before the end of the quarter',
  'because the vendor changed the price',
  'following a customer complaint',
  'due to a power outage',
  'to meet the new regulation',
  'while the manager was on holiday',
  'as part of the cost reduction plan',
  'after the system upgrade',
  'before the board meeting',
  'because of a missing signature',
  'to reduce the response time',
  'after the data center move',
  'during the annual audit',
  'for the new employees',
  'to fix a billing error',
];
const QUESTION_STARTS = [
  'how do i',
  'who can',
  'when should we',
  'please help me',
  'what is the process to',
  'is it possible to',
];
const QUESTION_VERBS = [
  'approve',
  'review',
  'update',
  'renew',
  'cancel',
  'restore',
  'submit',
  'find',
  'reset',
  'request',
];

/** FNV-1a of `prefix`: keeps the documents of two prefixes apart. */
function prefixSalt(prefix: string): number {
  return prefix === BENCH_PREFIX ? 0 : fnv1a(prefix);
}

/** The document with number `n` under `prefix`: the same text for the same n and prefix, always. */
export function syntheticDoc(n: number, prefix = BENCH_PREFIX): SyntheticDoc {
  const rand = mulberry32(n * 2654435761 + 1 + prefixSalt(prefix));
  const team = pick(rand, TEAMS);
  const region = pick(rand, REGIONS);
  const year = 2015 + Math.floor(rand() * 11);
  const first = `the ${team} team in ${region} ${pick(rand, VERBS)} the ${pick(rand, ADJECTIVES)} ${pick(rand, OBJECTS)} ${pick(rand, OBJECTS)} ${pick(rand, REASONS)}.`;
  const second = `the ${pick(rand, ADJECTIVES)} ${pick(rand, OBJECTS)} was ${pick(rand, VERBS)} by ${pick(rand, TEAMS)} and the ${pick(rand, OBJECTS)} ${pick(rand, REASONS)}.`;
  return {
    id: `${prefix}-${String(n).padStart(7, '0')}`,
    text: `${first} ${second} reference ${year}.`,
    metadata: { team, region, year },
  };
}

/** `count` documents under `prefix`, numbered from `start`. */
export function syntheticDocs(count: number, prefix = BENCH_PREFIX, start = 0): SyntheticDoc[] {
  return Array.from({ length: count }, (_, i) => syntheticDoc(start + i, prefix));
}

/** The benchmarks' document `n`. */
export const benchDoc = (n: number): SyntheticDoc => syntheticDoc(n);

/** The benchmarks' documents `start` .. `start + count - 1`. */
export const benchDocs = (start: number, count: number): SyntheticDoc[] =>
  syntheticDocs(count, BENCH_PREFIX, start);

/** `count` short questions in the corpus vocabulary (seeded apart from the documents). */
export function benchQueries(count: number, seed = 7): string[] {
  const rand = mulberry32(seed);
  return Array.from(
    { length: count },
    () =>
      `${pick(rand, QUESTION_STARTS)} ${pick(rand, QUESTION_VERBS)} the ${pick(rand, ADJECTIVES)} ${pick(rand, OBJECTS)} for ${pick(rand, TEAMS)} in ${pick(rand, REGIONS)}`,
  );
}
