/**
 * Splits a document into overlapping passages that each fit the model's window, so that every
 * part of a long document is embedded (a single vector would silently drop everything after the
 * first window). Pure: the token counter is passed in (the real tokenizer in the session worker,
 * a simple one in tests), so the same text always gives the same passages.
 *
 * Passages are cut where the text breaks most naturally: paragraphs, then sentences (English and
 * Chinese punctuation), then clauses, then words (a CJK character is a word), and only as a last
 * resort inside a word. Spans are character offsets (UTF-16, as JavaScript indexes strings) that
 * together cover every character; consecutive passages share whole units (sentences, clauses...)
 * of up to `overlapTokens` tokens.
 */

export interface PassageSpan {
  /** First character of the passage in the document's text. */
  start: number;
  /** One past its last character. */
  end: number;
}

export interface SplitOptions {
  /** Tokens a passage may hold, the model's special tokens ([CLS], [SEP]) excluded. */
  maxTokens: number;
  /** Tokens at the end of one passage repeated at the start of the next (at most half of maxTokens). */
  overlapTokens: number;
  /** Tokens of a piece of text, special tokens excluded. */
  countTokens: (text: string) => number;
}

/**
 * Where each level may cut: a cut falls at the end of a match. Coarser levels first; a piece still
 * over the budget is cut again at the next level.
 */
const LEVELS: readonly RegExp[] = [
  // paragraphs and lines
  /\n\s*/g,
  // sentences: . ! ? … then closing quotes or brackets, then space; Chinese enders need no space
  /[.!?…]+["'”’)\]]*\s+|[。！？；]+["'”’」』）】\]]*\s*/g,
  // clauses
  /[,;:]\s+|[，、；：]\s*/g,
  // words; between two CJK characters (each is a word of its own)
  /\s+|(?<=[\u3400-\u9fff\uf900-\ufaff])(?=[\u3400-\u9fff\uf900-\ufaff])/g,
];

interface Piece {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Word pieces shorter than this are not cut apart: each piece costs a tokenizer call, and a run
 * of Chinese without punctuation would otherwise be counted one character per call.
 */
const MIN_WORD_PIECE = 8;

/** Cut positions strictly inside [start, end) at one level, at least `minGap` apart. */
function cutsAt(text: string, start: number, end: number, level: RegExp, minGap: number): number[] {
  const cuts: number[] = [];
  let last = start;
  for (const m of text.slice(start, end).matchAll(level)) {
    const at = start + m.index + m[0].length;
    if (at - last < minGap || at >= end) continue;
    cuts.push(at);
    last = at;
  }
  return cuts;
}

/** Whether a cut at `at` would split a surrogate pair. */
function insidePair(text: string, at: number): boolean {
  const c = text.charCodeAt(at - 1);
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * No token spans more characters than this: bounds the binary search below, so cutting an unbroken
 * 100,000-character string costs about one tokenization of it per passage, not of the whole rest.
 */
const MAX_CHARS_PER_TOKEN = 32;

/** The longest prefix of [start, end) within the budget (at least one code point). */
function longestFitting(text: string, start: number, end: number, opts: SplitOptions): number {
  let lo = start + 1;
  let hi = Math.min(end, start + opts.maxTokens * MAX_CHARS_PER_TOKEN);
  if (insidePair(text, lo) && lo < end) lo++;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (opts.countTokens(text.slice(start, mid)) <= opts.maxTokens) lo = mid;
    else hi = mid - 1;
  }
  if (lo < end && insidePair(text, lo) && lo > start + 1) lo--;
  return lo;
}

/** [start, end) as pieces within the budget, each cut at the coarsest level that gets it there. */
function pieces(text: string, start: number, end: number, level: number, opts: SplitOptions, out: Piece[]) {
  // A piece too long to fit whatever its tokens is cut without counting it first.
  const tooLong = end - start > opts.maxTokens * MAX_CHARS_PER_TOKEN && level < LEVELS.length;
  const tokens = tooLong ? Number.POSITIVE_INFINITY : opts.countTokens(text.slice(start, end));
  if (tokens <= opts.maxTokens) {
    out.push({ start, end, tokens });
    return;
  }
  if (level < LEVELS.length) {
    const minGap = level === LEVELS.length - 1 ? MIN_WORD_PIECE : 1;
    const bounds = [start, ...cutsAt(text, start, end, LEVELS[level]!, minGap), end];
    for (let i = 0; i + 1 < bounds.length; i++)
      pieces(text, bounds[i]!, bounds[i + 1]!, level + 1, opts, out);
    return;
  }
  // One "word" longer than a passage (a hash, a base64 blob, CJK-free unbroken text).
  for (let at = start; at < end; ) {
    const next = longestFitting(text, at, end, opts);
    out.push({ start: at, end: next, tokens: opts.countTokens(text.slice(at, next)) });
    at = next;
  }
}

/**
 * The document's passages, in order. Each one's text (`text.slice(start, end)`) counts at most
 * `maxTokens`; a document that fits is one passage; the first starts at 0 and the last ends at
 * `text.length`, and each starts at or before the previous one's end.
 */
export function splitPassages(text: string, opts: SplitOptions): PassageSpan[] {
  if (!(opts.maxTokens >= 1)) throw new RangeError(`maxTokens must be at least 1 (got ${opts.maxTokens})`);
  if (!(opts.overlapTokens >= 0 && opts.overlapTokens <= opts.maxTokens / 2))
    throw new RangeError(
      `overlapTokens must be between 0 and half of maxTokens (${opts.maxTokens / 2}); got ${opts.overlapTokens}`,
    );
  if (text.length === 0) return [{ start: 0, end: 0 }];
  const units: Piece[] = [];
  pieces(text, 0, text.length, 0, opts, units);
  const spans: PassageSpan[] = [];
  let first = 0;
  for (;;) {
    // Greedy: as many units as the budget takes, by their own counts...
    let last = first;
    let sum = units[first]!.tokens;
    while (last + 1 < units.length && sum + units[last + 1]!.tokens <= opts.maxTokens)
      sum += units[++last]!.tokens;
    // ...then checked as one text: a tokenizer may count a joined text differently from its parts.
    while (
      last > first &&
      opts.countTokens(text.slice(units[first]!.start, units[last]!.end)) > opts.maxTokens
    )
      last--;
    spans.push({ start: units[first]!.start, end: units[last]!.end });
    if (last + 1 >= units.length) return spans;
    // The next passage starts with the tail of this one that fits the overlap, and always moves on.
    let next = last + 1;
    let tail = 0;
    while (next - 1 > first && tail + units[next - 1]!.tokens <= opts.overlapTokens)
      tail += units[--next]!.tokens;
    first = next;
  }
}
