/** The demo model's files: the ONNX graph over the word table, and a BERT WordPiece tokenizer.json. */
import onnxProto from 'onnx-proto';
import { DIM } from './vectors.ts';

export const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Gather(table, input_ids) × attention_mask: a BERT export's interface over a lookup table. */
export function encodeOnnx(table: Float32Array, vocabSize: number, builderVersion: number): Uint8Array {
  const { onnx } = onnxProto;
  const T = onnx.TensorProto.DataType;
  const INT = onnx.AttributeProto.AttributeType.INT;
  const raw = new Uint8Array(table.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < table.length; i++) view.setFloat32(i * 4, table[i]!, true); // ONNX raw_data is little-endian
  const info = valueInfo;
  const model = onnx.ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'gte-pro build-demo-model',
    producerVersion: String(builderVersion),
    graph: {
      name: 'glove_100d_demo',
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => info(n, T.INT64, ['batch', 'seq'])),
      output: [info('last_hidden_state', T.FLOAT, ['batch', 'seq', DIM])],
      initializer: [
        { name: 'word_embeddings', dataType: T.FLOAT, dims: [vocabSize, DIM], rawData: raw },
        { name: 'last_axis', dataType: T.INT64, dims: [1], int64Data: [-1] },
      ],
      // token_type_ids is declared (BERT exports have it, callers feed it) but a static table has no use for it.
      node: [
        {
          name: 'lookup',
          opType: 'Gather',
          input: ['word_embeddings', 'input_ids'],
          output: ['token_vectors'],
          attribute: [{ name: 'axis', type: INT, i: 0 }],
        },
        {
          name: 'mask_to_float',
          opType: 'Cast',
          input: ['attention_mask'],
          output: ['mask_float'],
          attribute: [{ name: 'to', type: INT, i: T.FLOAT }],
        },
        {
          name: 'mask_unsqueeze',
          opType: 'Unsqueeze',
          input: ['mask_float', 'last_axis'],
          output: ['mask_3d'],
        },
        {
          name: 'apply_mask',
          opType: 'Mul',
          input: ['token_vectors', 'mask_3d'],
          output: ['last_hidden_state'],
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** An ONNX graph input or output: a tensor of `elemType`, each dimension fixed or named. */
export function valueInfo(name: string, elemType: number, dims: Array<string | number>) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export function tokenizerJson(tokens: string[]): string {
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const specialIds = Object.fromEntries(SPECIALS.map((t, i) => [t, i]));
  const spec = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [
        special('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [specialIds[t]], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: '@VOCAB@',
    },
  };
  // Written by hand so the vocab stays in id order: JSON.stringify would hoist numeric keys ("1999").
  const vocab = `{\n${tokens.map((t, i) => `    ${JSON.stringify(t)}: ${i}`).join(',\n')}\n  }`;
  return `${JSON.stringify(spec, null, 2).replace('"@VOCAB@"', () => vocab)}\n`;
}
