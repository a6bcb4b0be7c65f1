/**
 * The ONNX Runtime session: opening it on CUDA with a logged fallback to CPU, and running one
 * padded batch through it to unit-length text vectors. Runs inside the session worker, because
 * session.run() blocks its thread for the whole inference.
 */
import * as ort from 'onnxruntime-node';
import { l2Normalize, pool, type Pooling } from './pooling.ts';
import type { Device } from './protocol.ts';

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The device really in use: 'cpu' after a CUDA fallback. */
  device: Device;
  outputName: string;
}

const FEEDABLE = new Set(['input_ids', 'attention_mask', 'token_type_ids']);

export async function openSession(
  onnxPath: string,
  device: Device,
  threads: number | undefined,
  log: (event: string, fields: Record<string, unknown>) => void,
): Promise<OpenedSession> {
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(threads ? { intraOpNumThreads: threads } : {}),
  };
  let session: ort.InferenceSession | null = null;
  let used: Device = 'cpu';
  if (device === 'cuda') {
    try {
      session = await ort.InferenceSession.create(onnxPath, { ...base, executionProviders: ['cuda', 'cpu'] });
      used = 'cuda';
    } catch (err) {
      // onnxruntime-node ships without the CUDA provider unless installed with it (.npmrc skips
      // that download); serving slower beats not serving.
      log('embedder.cuda_unavailable', {
        error: err instanceof Error ? err.message : String(err),
        fallback: 'cpu',
      });
    }
  }
  session ??= await ort.InferenceSession.create(onnxPath, { ...base, executionProviders: ['cpu'] });
  const unknown = session.inputNames.filter((name) => !FEEDABLE.has(name));
  if (unknown.length > 0 || !session.inputNames.includes('input_ids')) {
    throw new Error(
      `${onnxPath} has inputs [${session.inputNames.join(', ')}]; GTE-Pro feeds input_ids, attention_mask and ` +
        'token_type_ids like a Hugging Face BERT export (optimum-cli export onnx --task feature-extraction)',
    );
  }
  const outputName = session.outputNames.includes('last_hidden_state')
    ? 'last_hidden_state'
    : session.outputNames[0]!;
  return { session, device: used, outputName };
}

/** Embeds texts already tokenized; every row of `ids` is padded to the longest with `padId`. */
export async function embedBatch(
  s: OpenedSession,
  ids: number[][],
  padId: number,
  pooling: Pooling,
  dimension: number,
): Promise<Float32Array[]> {
  const batch = ids.length;
  const seq = Math.max(...ids.map((row) => row.length));
  const inputIds = new BigInt64Array(batch * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(batch * seq);
  ids.forEach((row, b) => {
    for (let t = 0; t < row.length; t++) {
      inputIds[b * seq + t] = BigInt(row[t]!);
      mask[b * seq + t] = 1n;
    }
  });
  const shape = [batch, seq];
  const tensors: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', inputIds, shape),
    attention_mask: new ort.Tensor('int64', mask, shape),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch * seq), shape),
  };
  const feeds = Object.fromEntries(s.session.inputNames.map((name) => [name, tensors[name]!]));
  const output = (await s.session.run(feeds, [s.outputName]))[s.outputName]!;
  const data = output.data as Float32Array;
  const dims = output.dims;
  // Some sentence-transformers exports pool inside the graph and output [batch, dim] directly.
  const rows =
    dims.length === 2
      ? Array.from({ length: batch }, (_, b) => data.slice(b * dims[1]!, (b + 1) * dims[1]!))
      : pool({ hidden: data, mask, batch, seq, dim: dims[2]! }, pooling);
  if (rows[0] && rows[0].length !== dimension) {
    throw new Error(
      `${s.outputName} has ${rows[0].length} dimensions but the model config says ${dimension}; fix the model folder's config`,
    );
  }
  return rows.map(l2Normalize);
}
