/**
 * A metadata filter (shared/search-filter.ts) as SQL over the indexed `doc_meta` table: one row
 * per (document rowid, field) with the value's kind ('s' string, 'n' number, 'b' boolean, 'z'
 * null) beside it, so equality is by type and value as `matchesFilter` defines it and an index
 * on (key, kind, value) finds the matching documents without reading any document.
 *
 * The clause is over `documents d`, in one of two forms: `enumerate` (`d.rowid IN (SELECT ...)`,
 * for listing the matching documents: SQLite walks the index once) or `check` (`EXISTS` per row,
 * for testing rows found another way: FTS matches, FAISS candidates; `IN` there would make SQLite
 * either list every match of an unselective filter per call or drive the FTS query from the list).
 * `$ne` and `$nin` negate the test (a missing field passes them).
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
  /**
   * Each condition a matching document must meet, as a test over doc_meta rows (`key = ? AND ...`):
   * the fewest rows any of them has bounds the number of matches, read off the index alone.
   */
  required: { test: string; params: (string | number)[] }[];
}

export type FilterForm = 'enumerate' | 'check';

/** `d` has a doc_meta row for `key` that meets `test`; the params of `test` follow the key's. */
function having(form: FilterForm, rowid: string, negate: boolean, test: string): string {
  if (form === 'enumerate')
    return `${rowid} ${negate ? 'NOT IN' : 'IN'} (SELECT doc FROM doc_meta WHERE ${test})`;
  return `${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM doc_meta WHERE doc = ${rowid} AND ${test})`;
}

function anyOf(values: readonly MetadataScalar[], params: (string | number)[]): string {
  const alternatives = values.map((v) => {
    const m = metaValue(v)!;
    params.push(m.kind, m.value);
    return '(kind = ? AND value = ?)';
  });
  return `(${alternatives.join(' OR ')})`;
}

const RANGE_SQL = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

/** The WHERE clause (over `documents d` unless `rowid` says otherwise) of a filter; `1` when there is none. */
export function filterSql(
  filter: MetadataFilter | undefined,
  form: FilterForm,
  /** The document rowid the clause tests (another table's rowid, say doc_fts.rowid). */
  rowid = 'd.rowid',
): FilterSql {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  const required: FilterSql['required'] = [];
  const add = (negate: boolean, test: string, own: (string | number)[]) => {
    clauses.push(having(form, rowid, negate, `key = ? AND ${test}`));
    params.push(...own);
    if (!negate) required.push({ test: `key = ? AND ${test}`, params: own });
  };
  for (const [key, condition] of Object.entries(filter ?? {})) {
    const ops = operatorsOf(condition);
    const membership = (values: readonly MetadataScalar[], negate: boolean) => {
      const own: (string | number)[] = [key];
      add(negate, anyOf(values, own), own);
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
    const own: (string | number)[] = [key, typeof bounds[0]!.value === 'number' ? 'n' : 's'];
    const tests = bounds.map((b) => {
      own.push(b.value);
      return `value ${RANGE_SQL[b.op]} ?`;
    });
    add(false, `kind = ? AND ${tests.join(' AND ')}`, own);
  }
  return { where: clauses.length ? clauses.join(' AND ') : '1', params, required };
}
