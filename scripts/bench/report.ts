/**
 * BENCHMARKS.md upkeep: each suite owns one section between marker comments, replaced in place by
 * its latest run (appended when absent), so a run of one suite leaves the others' results alone.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';

const HEADER = `# GTE-Pro benchmarks

Written by \`npm run bench\` (scripts/bench/). Each section below is replaced by the latest run of
its suite (\`npm run bench -- --suite NAME\`; \`--quick\` for a small, fast version, labelled as such).
Comparisons are made side by side within one run and given as ratios, because the machines
these run on are shared and noisy: compare ratios across runs, not absolute numbers.
`;

const begin = (key: string) => `<!-- bench:${key}:begin -->`;
const end = (key: string) => `<!-- bench:${key}:end -->`;

/** `doc` with the section `key` set to `body` (replaced where present, else appended). Pure. */
export function replaceSection(doc: string, key: string, body: string): string {
  if (!/^[a-z0-9-]+$/.test(key))
    throw new Error(`section key must be lowercase letters, digits and - (got ${JSON.stringify(key)})`);
  const block = `${begin(key)}\n${body.trim()}\n${end(key)}`;
  const from = doc.indexOf(begin(key));
  const to = doc.indexOf(end(key));
  if (from >= 0 && to > from) return doc.slice(0, from) + block + doc.slice(to + end(key).length);
  const base = doc.trim() === '' ? HEADER : doc;
  return `${base.replace(/\s*$/, '')}\n\n${block}\n`;
}

/** Reads `path` (or starts a new file), replaces the sections, writes it back. */
export function writeSections(path: string, sections: { key: string; body: string }[]): void {
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '';
  for (const s of sections) doc = replaceSection(doc, s.key, s.body);
  writeFileSync(path, doc.endsWith('\n') ? doc : `${doc}\n`);
}
