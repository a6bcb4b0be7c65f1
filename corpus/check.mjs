#!/usr/bin/env node
// Validates corpus/documents.jsonl and corpus/queries.json.
// Plain Node (>=18), no dependencies. Usage: node corpus/check.mjs [documents.jsonl] [queries.json]
// Prints a summary; exits 1 if any check fails. Warnings do not fail the run.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const docsPath = process.argv[2] ?? join(here, 'documents.jsonl');
const queriesPath = process.argv[3] ?? join(here, 'queries.json');

const LANGS = ['en', 'zh'];
const DEPARTMENTS = ['finance', 'it-ops', 'hr', 'legal', 'support'];
const DEPT_PREFIX = { finance: 'fin', 'it-ops': 'it', hr: 'hr', legal: 'legal', support: 'sup' };
const MIN_DOCS = 320;
const EN_SHARE = [0.55, 0.75];
const MIN_QUERIES = 48;
const MIN_EN_QUERIES = 32;
const MIN_ZH_QUERIES = 16;
const CJK = /[\u4e00-\u9fff]/;

const failures = [];
const warnings = [];
const fail = (msg) => failures.push(msg);
const warn = (msg) => warnings.push(msg);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------- documents ----------
let raw = '';
try {
  raw = readFileSync(docsPath, 'utf8');
} catch (e) {
  fail(`cannot read ${docsPath}: ${e.message}`);
}
const docs = [];
const seenIds = new Set(); // every non-empty id seen, valid or not
const ids = new Map(); // id -> valid doc
const texts = new Map(); // text -> id
const lines = raw.split('\n');
lines.forEach((line, i) => {
  const n = i + 1;
  if (line.trim() === '') {
    if (i !== lines.length - 1) fail(`documents line ${n}: blank line`);
    return;
  }
  let d;
  try {
    d = JSON.parse(line);
  } catch (e) {
    fail(`documents line ${n}: invalid JSON (${e.message})`);
    return;
  }
  if (!isObj(d)) return fail(`documents line ${n}: not a JSON object`);
  const where = `documents line ${n}${typeof d.id === 'string' ? ` (${d.id})` : ''}`;
  let ok = true;

  if (typeof d.id !== 'string' || d.id.trim() === '') {
    fail(`${where}: id missing or empty`);
    ok = false;
  } else if (seenIds.has(d.id)) {
    fail(`${where}: duplicate id ${d.id}`);
    ok = false;
  }

  if (typeof d.text !== 'string' || d.text.trim().length < 1 || d.text.length > 2000) {
    fail(
      `${where}: text must be a string of 1..2000 chars (got ${typeof d.text === 'string' ? d.text.length : typeof d.text})`,
    );
    ok = false;
  } else {
    if (d.text.length < 40 || d.text.length > 400)
      warn(`${where}: text length ${d.text.length} outside the intended 40..400`);
    if (texts.has(d.text)) fail(`${where}: same text as ${texts.get(d.text)}`);
    else texts.set(d.text, d.id);
  }

  const m = d.metadata;
  if (!isObj(m)) {
    fail(`${where}: metadata missing or not an object`);
    ok = false;
  } else {
    if (!LANGS.includes(m.lang)) {
      fail(`${where}: metadata.lang must be one of ${LANGS.join('|')} (got ${JSON.stringify(m.lang)})`);
      ok = false;
    }
    if (!DEPARTMENTS.includes(m.department)) {
      fail(
        `${where}: metadata.department must be one of ${DEPARTMENTS.join('|')} (got ${JSON.stringify(m.department)})`,
      );
      ok = false;
    }
    if (typeof m.title !== 'string' || m.title.trim() === '') {
      fail(`${where}: metadata.title missing or empty`);
      ok = false;
    }
  }

  if (ok) {
    // Soft consistency checks.
    const hasCjk = CJK.test(d.text);
    if (m.lang === 'zh' && !hasCjk) warn(`${where}: lang zh but text has no CJK characters`);
    if (m.lang === 'en' && hasCjk) warn(`${where}: lang en but text contains CJK characters`);
    const expected = `${m.lang === 'zh' ? 'zh-' : ''}${DEPT_PREFIX[m.department]}-`;
    if (!d.id.startsWith(expected)) warn(`${where}: id does not start with ${expected}`);
    docs.push(d);
    ids.set(d.id, d);
  }
  if (typeof d.id === 'string' && d.id.trim() !== '') seenIds.add(d.id);
});

const count = (arr, f) => arr.reduce((acc, x) => acc + (f(x) ? 1 : 0), 0);
const enDocs = count(docs, (d) => d.metadata.lang === 'en');
const zhDocs = count(docs, (d) => d.metadata.lang === 'zh');
const enShare = docs.length ? enDocs / docs.length : 0;
if (docs.length < MIN_DOCS) fail(`only ${docs.length} valid documents, need >= ${MIN_DOCS}`);
if (enShare < EN_SHARE[0] || enShare > EN_SHARE[1])
  fail(`English share ${enShare.toFixed(3)} outside ${EN_SHARE[0]}..${EN_SHARE[1]}`);
for (const dep of DEPARTMENTS)
  if (!docs.some((d) => d.metadata.department === dep)) fail(`no documents for department ${dep}`);

// ---------- queries ----------
let queries = [];
try {
  queries = JSON.parse(readFileSync(queriesPath, 'utf8'));
} catch (e) {
  fail(`cannot read/parse ${queriesPath}: ${e.message}`);
}
if (!Array.isArray(queries)) {
  fail('queries.json must contain a JSON array');
  queries = [];
}
const seenQueries = new Set();
const goodQueries = [];
const relevantIds = new Set();
queries.forEach((q, i) => {
  const where = `query #${i}`;
  if (!isObj(q)) return fail(`${where}: not an object`);
  let ok = true;
  if (typeof q.query !== 'string' || q.query.trim() === '') {
    fail(`${where}: query text missing or empty`);
    ok = false;
  } else if (seenQueries.has(q.query.trim())) {
    fail(`${where}: duplicate query "${q.query}"`);
  } else seenQueries.add(q.query.trim());
  if (!LANGS.includes(q.lang)) {
    fail(`${where}: lang must be one of ${LANGS.join('|')} (got ${JSON.stringify(q.lang)})`);
    ok = false;
  }
  if (!Array.isArray(q.relevant) || q.relevant.length < 1 || q.relevant.length > 3) {
    fail(`${where}: relevant must be an array of 1..3 ids`);
    ok = false;
  } else {
    if (new Set(q.relevant).size !== q.relevant.length) fail(`${where}: duplicate ids in relevant`);
    for (const id of q.relevant) {
      if (typeof id !== 'string' || !ids.has(id)) {
        fail(`${where}: relevant id ${JSON.stringify(id)} does not exist among the valid documents`);
        ok = false;
      } else {
        relevantIds.add(id);
        const d = ids.get(id);
        if (LANGS.includes(q.lang) && d.metadata?.lang !== q.lang)
          warn(`${where}: ${q.lang} query has relevant ${d.metadata?.lang} document ${id}`);
      }
    }
  }
  if (ok && q.lang === 'zh' && !CJK.test(q.query)) warn(`${where}: lang zh but query has no CJK characters`);
  if (ok) goodQueries.push(q);
});
const enQ = count(goodQueries, (q) => q.lang === 'en');
const zhQ = count(goodQueries, (q) => q.lang === 'zh');
if (goodQueries.length < MIN_QUERIES)
  fail(`only ${goodQueries.length} valid queries, need >= ${MIN_QUERIES}`);
if (enQ < MIN_EN_QUERIES) fail(`only ${enQ} English queries, need >= ${MIN_EN_QUERIES}`);
if (zhQ < MIN_ZH_QUERIES) fail(`only ${zhQ} Chinese queries, need >= ${MIN_ZH_QUERIES}`);

// ---------- summary ----------
const table = {};
for (const dep of DEPARTMENTS) table[dep] = { en: 0, zh: 0 };
for (const d of docs) table[d.metadata.department][d.metadata.lang]++;
const multi = count(goodQueries, (q) => q.relevant.length > 1);

console.log(`documents: ${docs.length} valid of ${lines.filter((l) => l.trim()).length} lines (${docsPath})`);
console.log(`  en ${enDocs} / zh ${zhDocs}  (en share ${(enShare * 100).toFixed(1)}%)`);
for (const dep of DEPARTMENTS)
  console.log(
    `  ${dep.padEnd(8)} en ${String(table[dep].en).padStart(3)}  zh ${String(table[dep].zh).padStart(3)}`,
  );
console.log(`queries: ${goodQueries.length} valid of ${queries.length} (${queriesPath})`);
console.log(
  `  en ${enQ} / zh ${zhQ}; ${multi} with more than one relevant id; ${relevantIds.size} distinct relevant docs`,
);
if (warnings.length) {
  console.log(`warnings (${warnings.length}):`);
  for (const w of warnings) console.log(`  - ${w}`);
}
if (failures.length) {
  console.error(`FAILED (${failures.length}):`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log('OK');
