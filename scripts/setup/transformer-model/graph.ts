/**
 * The BERT/GTE encoder as an ONNX graph (opset 17): token, position and type embeddings, then
 * `layers` blocks of multi-head self-attention (with the attention mask) and a GELU feed-forward
 * network, each followed by a residual add and LayerNorm, exactly as a Hugging Face BERT export
 * computes them. Weights are seeded pseudo-random (see weights.ts): the vectors mean nothing, the
 * cost per token is that of the real architecture.
 */
import onnxProto from 'onnx-proto';
import { valueInfo } from '../demo-model/files.ts';
import { seededTensor } from './weights.ts';

export interface EncoderShape {
  vocabSize: number;
  hidden: number;
  heads: number;
  intermediate: number;
  layers: number;
  maxPositions: number;
  typeVocab: number;
}

type NodeSpec = { name: string; opType: string; input: string[]; output: string[]; attribute?: unknown[] };
type Initializer = Record<string, unknown>;

/** Standard deviation of BERT's initializer (initializer_range in config.json). */
export const INIT_RANGE = 0.02;

export function encodeEncoder(shape: EncoderShape, seed: number, producerVersion: string): Uint8Array {
  const { onnx } = onnxProto;
  const T = onnx.TensorProto.DataType;
  const { INT, FLOAT, INTS } = onnx.AttributeProto.AttributeType;
  const { hidden: H, heads, intermediate: F } = shape;
  if (H % heads !== 0) throw new Error(`hidden size ${H} is not a multiple of ${heads} heads`);
  const headDim = H / heads;
  const nodes: NodeSpec[] = [];
  const inits: Initializer[] = [];
  let n = 0;
  const op = (opType: string, input: string[], attribute?: unknown[], out?: string): string => {
    const output = out ?? `${opType.toLowerCase()}_${n++}`;
    nodes.push({ name: output, opType, input, output: [output], ...(attribute ? { attribute } : {}) });
    return output;
  };
  const weight = (name: string, dims: number[], fill?: number): string => {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = fill === undefined ? seededTensor(`${seed}:${name}`, count, INIT_RANGE) : null;
    const raw = new Uint8Array(count * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, data ? data[i]! : fill!, true); // little-endian
    inits.push({ name, dataType: T.FLOAT, dims, rawData: raw });
    return name;
  };
  const ints = (name: string, values: number[]): string => {
    inits.push({ name, dataType: T.INT64, dims: [values.length], int64Data: values });
    return name;
  };
  const intScalar = (name: string, value: number): string => {
    inits.push({ name, dataType: T.INT64, dims: [], int64Data: [value] });
    return name;
  };
  const scalar = (name: string, value: number): string => {
    inits.push({ name, dataType: T.FLOAT, dims: [], floatData: [value] });
    return name;
  };
  const layerNorm = (x: string, prefix: string): string =>
    op(
      'LayerNormalization',
      [x, weight(`${prefix}.weight`, [H], 1), weight(`${prefix}.bias`, [H], 0)],
      [
        { name: 'axis', type: INT, i: -1 },
        { name: 'epsilon', type: FLOAT, f: 1e-12 },
      ],
    );
  const dense = (x: string, prefix: string, inDim: number, outDim: number): string =>
    op('Add', [
      op('MatMul', [x, weight(`${prefix}.weight`, [inDim, outDim])]),
      weight(`${prefix}.bias`, [outDim], 0),
    ]);
  const perm = (p: number[]) => [{ name: 'perm', type: INTS, ints: p }];

  // Embeddings: word + position (0..seq-1) + token type, then LayerNorm.
  const seqLen = op('Gather', [op('Shape', ['input_ids']), ints('one', [1])]);
  const positions = op('Range', [
    intScalar('pos_start', 0),
    op('Squeeze', [seqLen, ints('zero', [0])]),
    intScalar('pos_step', 1),
  ]);
  const words = op('Gather', [
    weight('embeddings.word_embeddings.weight', [shape.vocabSize, H]),
    'input_ids',
  ]);
  const pos = op('Gather', [
    weight('embeddings.position_embeddings.weight', [shape.maxPositions, H]),
    positions,
  ]);
  const types = op('Gather', [
    weight('embeddings.token_type_embeddings.weight', [shape.typeVocab, H]),
    'token_type_ids',
  ]);
  let x = layerNorm(op('Add', [op('Add', [words, pos]), types]), 'embeddings.LayerNorm');

  // Attention bias: 0 where attention_mask is 1, -10000 where it is 0, shaped [batch, 1, 1, seq].
  const maskF = op('Cast', ['attention_mask'], [{ name: 'to', type: INT, i: T.FLOAT }]);
  const inverted = op('Sub', [scalar('one_f', 1), maskF]);
  const bias = op('Unsqueeze', [op('Mul', [inverted, scalar('neg_big', -10000)]), ints('mask_axes', [1, 2])]);
  const splitHeads = ints('split_heads', [0, 0, heads, headDim]);
  const mergeHeads = ints('merge_heads', [0, 0, H]);
  const scale = scalar('attention_scale', 1 / Math.sqrt(headDim));
  const half = scalar('half', 0.5);
  const invSqrt2 = scalar('inv_sqrt2', Math.SQRT1_2);

  for (let l = 0; l < shape.layers; l++) {
    const p = `encoder.layer.${l}`;
    const heads4 = (name: string, order: number[]) =>
      op(
        'Transpose',
        [op('Reshape', [dense(x, `${p}.attention.self.${name}`, H, H), splitHeads])],
        perm(order),
      );
    const q = heads4('query', [0, 2, 1, 3]);
    const k = heads4('key', [0, 2, 3, 1]);
    const v = heads4('value', [0, 2, 1, 3]);
    const scores = op('Add', [op('Mul', [op('MatMul', [q, k]), scale]), bias]);
    const probs = op('Softmax', [scores], [{ name: 'axis', type: INT, i: -1 }]);
    const context = op('Reshape', [
      op('Transpose', [op('MatMul', [probs, v])], perm([0, 2, 1, 3])),
      mergeHeads,
    ]);
    const attended = dense(context, `${p}.attention.output.dense`, H, H);
    x = layerNorm(op('Add', [attended, x]), `${p}.attention.output.LayerNorm`);
    // GELU as BERT defines it: 0.5 · h · (1 + erf(h / √2)).
    const h = dense(x, `${p}.intermediate.dense`, H, F);
    const gelu = op('Mul', [
      op('Mul', [h, half]),
      op('Add', [op('Erf', [op('Mul', [h, invSqrt2])]), scalar(`${p}.one`, 1)]),
    ]);
    const out = dense(gelu, `${p}.output.dense`, F, H);
    x = layerNorm(op('Add', [out, x]), `${p}.output.LayerNorm`);
  }
  op('Identity', [x], undefined, 'last_hidden_state');

  const info = valueInfo;
  const model = onnx.ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'gte-pro build-transformer-model',
    producerVersion,
    graph: {
      name: 'bert_encoder',
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) =>
        info(name, T.INT64, ['batch_size', 'sequence_length']),
      ),
      output: [info('last_hidden_state', T.FLOAT, ['batch_size', 'sequence_length', H])],
      initializer: inits,
      node: nodes,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
