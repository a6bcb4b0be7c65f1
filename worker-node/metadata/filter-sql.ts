/**
 * A metadata filter (shared/search-filter.ts) as SQL over the indexed `doc_meta` table: one row
 * per (document rowid, field) with the value's kind ('s' string, 'n' number, 'b' boolean, 'z'
 * null) beside it, so equality is by type and value as `matchesFilter` defines it and an index
 * on (key, kind, value) finds the matching documents without reading any document.
 *
 * The clause is over `documents d`: `d.rowid IN (...)` for what must hold, `NOT IN` for `$ne` and
 * `$nin` (a missing field passes them).
 */
import { type MetadataFilter, type MetadataScalar, operatorsOf } from '../../shared/search-filter.ts';

export type MetaKind = 's' | 'n' | 'b' | 'z';

/** How a scalar is stored in doc_meta: its kind and a comparable SQL value. */
export function metaValue(value: unknown): { kind: MetaKind; value: string | number } | null {
  if (typeof value === 'string') return { kind: 's', value };
  if (typeof value === 'number' && Number.isFinite(value)) return { kind: 'n', value };
  if (typeof value === 'boolean') return { kind: 'b', value: value ? 1 : 0 };
  if (value === null) return { kind: 'z', value: 0 };
  return null;
}

export interface FilterSql {
  where: string;
  params: (string | number)[];
}

function anyOf(key: string, values: readonly MetadataScalar[], params: (string | number)[]): string {
  const alternatives = values.map((v) => {
    const m = metaValue(v)!;
    params.push(m.kind, m.value);
    return '(kind = ? AND value = ?)';
  });
  params.unshift(key);
  return `SELECT doc FROM doc_meta WHERE key = ? AND (${alternatives.join(' OR ')})`;
}

const RANGE_SQL = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

/** The WHERE clause (over `documents d`) of a filter; `1` when there is none. */
export function filterSql(filter: MetadataFilter | undefined): FilterSql {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  for (const [key, condition] of Object.entries(filter ?? {})) {
    const ops = operatorsOf(condition);
    const membership = (values: readonly MetadataScalar[], negate: boolean) => {
      const own: (string | number)[] = [];
      clauses.push(`d.rowid ${negate ? 'NOT IN' : 'IN'} (${anyOf(key, values, own)})`);
      params.push(...own);
    };
    if (ops.$eq !== undefined) membership([ops.$eq], false);
    if (ops.$ne !== undefined) membership([ops.$ne], true);
    if (ops.$in) membership(ops.$in, false);
    if (ops.$nin) membership(ops.$nin, true);
    const bounds = (Object.keys(RANGE_SQL) as (keyof typeof RANGE_SQL)[]).flatMap((op) =>
      ops[op] === undefined ? [] : [{ op, value: ops[op] }],
    );
    if (bounds.length === 0) continue;
    const kinds = new Set(bounds.map((b) => typeof b.value));
    if (kinds.size > 1) {
      // A number bound and a string bound: no value is both.
      clauses.push('0');
      continue;
    }
    params.push(key, typeof bounds[0]!.value === 'number' ? 'n' : 's');
    const tests = bounds.map((b) => {
      params.push(b.value);
      return `value ${RANGE_SQL[b.op]} ?`;
    });
    clauses.push(
      `d.rowid IN (SELECT doc FROM doc_meta WHERE key = ? AND kind = ? AND ${tests.join(' AND ')})`,
    );
  }
  return { where: clauses.length ? clauses.join(' AND ') : '1', params };
}
