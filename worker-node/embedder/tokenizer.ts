/**
 * Text → token ids with a Hugging Face tokenizer.json (@huggingface/tokenizers, pure JS), cut to
 * the model's maxLength while keeping the closing special token ([SEP]) that BERT models expect.
 * Also a cheap token estimate for the main thread, which must not pay for real tokenization
 * (that runs in the session worker; see session-worker.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export interface TextTokenizer {
  /** Token ids with special tokens, at most maxLength of them. */
  encode(text: string): number[];
  /** Tokens of the whole text, special tokens excluded and nothing cut (for splitting passages). */
  count(text: string): number;
  /** Special tokens every encoded text carries ([CLS] and [SEP] for BERT): a passage leaves room for them. */
  readonly specialTokens: number;
  readonly padId: number;
}

/**
 * A token covers at least a quarter of a character even in byte-level BPE, so the first maxLength
 * tokens lie well inside maxLength × 16 characters; clipping stops a 100k-character document
 * from costing 100k characters of tokenization for 256 tokens of output.
 */
const CHARS_PER_TOKEN_BOUND = 16;

export async function loadTokenizer(tokenizerPath: string, maxLength: number): Promise<TextTokenizer> {
  const spec = JSON.parse(await readFile(tokenizerPath, 'utf8')) as object;
  let config: object = {};
  try {
    config = JSON.parse(
      await readFile(path.join(path.dirname(tokenizerPath), 'tokenizer_config.json'), 'utf8'),
    ) as object;
  } catch {
    // tokenizer.json alone is enough for BERT-style tokenizers.
  }
  const tokenizer = new Tokenizer(spec, config);
  const specialIds = new Set<number>();
  for (const [id, token] of tokenizer.get_added_tokens_decoder()) if (token.special) specialIds.add(id);
  const padId = tokenizer.token_to_id('[PAD]') ?? tokenizer.token_to_id('<pad>') ?? 0;
  return {
    padId,
    specialTokens: tokenizer.encode('').ids.length,
    count: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length,
    encode(text: string): number[] {
      const ids = tokenizer.encode(clipText(text, maxLength)).ids;
      if (ids.length <= maxLength) return ids;
      const last = ids[ids.length - 1]!;
      return specialIds.has(last) ? [...ids.slice(0, maxLength - 1), last] : ids.slice(0, maxLength);
    },
  };
}

/**
 * Upper-bound-ish token count without a vocabulary: one per CJK character, ~1.3 per word
 * (WordPiece splits rare words), one per punctuation mark, plus [CLS] and [SEP]. Only used to
 * size dispatches; the worker packs session batches by exact counts.
 */
export function estimateTokens(text: string, maxLength: number): number {
  const head = clipText(text, maxLength);
  let cjk = 0;
  let words = 0;
  let punct = 0;
  let inWord = false;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if ((c >= 0x3400 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff)) {
      cjk++;
      inWord = false;
    } else if (c === 32 || c === 9 || c === 10 || c === 13) {
      inWord = false;
    } else if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 0xc0) {
      if (!inWord) words++;
      inWord = true;
    } else {
      punct++;
      inWord = false;
    }
  }
  return Math.min(maxLength, 2 + cjk + punct + Math.ceil(words * 1.3));
}

/** The part of `text` that can reach the model; the rest is dropped before it is copied or tokenized. */
export function clipText(text: string, maxLength: number): string {
  const maxChars = maxLength * CHARS_PER_TOKEN_BOUND;
  if (text.length <= maxChars) return text;
  const code = text.charCodeAt(maxChars - 1);
  // Never split a surrogate pair: a lone high surrogate would become an unknown token.
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? maxChars - 1 : maxChars);
}
