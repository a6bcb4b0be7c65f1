/**
 * Metadata filters of a search: `{"metadata": {field: condition}}`, the conditions combined with
 * AND. A condition is a plain scalar (equality) or an object of operators: `$eq`, `$ne`, `$in`,
 * `$nin`, `$gt`, `$gte`, `$lt`, `$lte`. Both sides validate with this schema (each refusal names
 * the field); the node evaluates it in SQLite (worker-node/metadata/filter-sql.ts) or with
 * `matchesFilter` below, which define the same semantics:
 *
 * - equality is by type and value (`1` never equals `"1"` or `true`); a missing field equals nothing;
 * - `$ne` and `$nin` match documents whose field is missing or holds another value;
 * - ranges compare numbers with numbers and strings with strings (by UTF-8 bytes, as SQLite does);
 *   a value of the other type, or a missing one, is not in range.
 */
import { z } from 'zod';

export const MetadataScalar = z.union([z.string().max(256), z.number().finite(), z.boolean(), z.null()]);
export type MetadataScalar = z.infer<typeof MetadataScalar>;

const rangeValue = z.union([z.string().max(256), z.number().finite()], {
  error: 'a range operator takes a number or a string',
});
const list = z.array(MetadataScalar).min(1, 'takes a non-empty array').max(256, 'takes at most 256 values');

export const FilterOperators = z
  .object({
    $eq: MetadataScalar,
    $ne: MetadataScalar,
    $in: list,
    $nin: list,
    $gt: rangeValue,
    $gte: rangeValue,
    $lt: rangeValue,
    $lte: rangeValue,
  })
  .partial()
  .strict()
  .refine((ops) => Object.keys(ops).length > 0, { message: 'needs at least one operator' });
export type FilterOperators = z.infer<typeof FilterOperators>;

const OPERATOR_NAMES = '$eq, $ne, $in, $nin, $gt, $gte, $lt, $lte';

/** For an object, the union's error is the operator branch's first one, with its operator named. */
export const FilterCondition = z.union([MetadataScalar, FilterOperators], {
  error: (issue) => {
    const input = issue.input;
    if (typeof input !== 'object' || input === null) return undefined;
    if (Array.isArray(input)) return `must be a scalar or an object of operators (${OPERATOR_NAMES})`;
    const branches = (issue as { errors?: { path: PropertyKey[]; message: string }[][] }).errors;
    const first = branches?.[1]?.[0];
    if (!first) return undefined;
    return first.path.length ? `${first.path.map(String).join('.')}: ${first.message}` : first.message;
  },
});
export type FilterCondition = z.infer<typeof FilterCondition>;

/** `{"metadata": {k: condition}}`; nested objects other than operators are refused. */
export const SearchFilter = z
  .object({
    metadata: z
      .record(z.string().min(1).max(64), FilterCondition)
      .refine((m) => Object.keys(m).length <= 16, { message: 'at most 16 metadata keys' }),
  })
  .strict();
export type SearchFilter = z.infer<typeof SearchFilter>;

export type MetadataFilter = SearchFilter['metadata'];

/** A condition in operator form (a plain value is `$eq`). */
export function operatorsOf(condition: FilterCondition): FilterOperators {
  return condition !== null && typeof condition === 'object' ? condition : { $eq: condition };
}

function sameValue(a: unknown, b: MetadataScalar): boolean {
  return typeof a === typeof b && a === b;
}

/** Code point order, which is UTF-8 byte order (SQLite's BINARY collation). */
function compareStrings(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Negative, zero or positive; null when the two are not comparable (other types, missing). */
function compare(a: unknown, b: string | number): number | null {
  if (typeof b === 'number') return typeof a === 'number' ? a - b : null;
  if (typeof a !== 'string') return null;
  return compareStrings(a, b);
}

function inRange(value: unknown, ops: FilterOperators): boolean {
  const checks: [string | number | undefined, (c: number) => boolean][] = [
    [ops.$gt, (c) => c > 0],
    [ops.$gte, (c) => c >= 0],
    [ops.$lt, (c) => c < 0],
    [ops.$lte, (c) => c <= 0],
  ];
  for (const [bound, ok] of checks) {
    if (bound === undefined) continue;
    const c = compare(value, bound);
    if (c === null || !ok(c)) return false;
  }
  return true;
}

/** Whether a document's metadata passes the filter (the post-filter; the pre-filter is SQL). */
export function matchesFilter(metadata: Record<string, unknown>, filter: MetadataFilter): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    const ops = operatorsOf(condition);
    const has = Object.hasOwn(metadata, key);
    const value = has ? metadata[key] : undefined;
    if (ops.$eq !== undefined && !(has && sameValue(value, ops.$eq))) return false;
    if (ops.$ne !== undefined && has && sameValue(value, ops.$ne)) return false;
    if (ops.$in && !(has && ops.$in.some((v) => sameValue(value, v)))) return false;
    if (ops.$nin && has && ops.$nin.some((v) => sameValue(value, v))) return false;
    if (!inRange(value, ops)) return false;
  }
  return true;
}
