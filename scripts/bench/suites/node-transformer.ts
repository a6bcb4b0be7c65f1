/**
 * The node suite's second table: the same load matrix with the transformer-shaped benchmark model
 * (scripts/setup/build-transformer-model.ts, gte-small sizes, built here when missing), on a
 * smaller corpus ingested through a node running that model: a transformer embeds tens of texts
 * per second on this CPU, not thousands.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { buildTransformerModel, SIZES, transformerModelDir } from '../../setup/build-transformer-model.ts';
import { benchDocs, benchQueries } from '../../corpus/synthetic.ts';
import type { BenchContext } from '../context.ts';
import { machineInfo } from '../machine.ts';
import { formatCount, formatMs, formatRatio, perSecond, ratio } from '../stats.ts';
import { embedderAlone, embedderBatchCurve, runLoadMatrix } from './node-load.ts';

const INGEST_BATCH = 64;

export interface TransformerDataset {
  model: { id: string; dir: string };
  /** A data directory of `docs` documents embedded by the model (copy it before use). */
  template: string;
  docs: number;
  ingestMs: number;
}

const built = new WeakMap<BenchContext, Promise<TransformerDataset>>();

/** The transformer-shaped model (built when missing) and its dataset, made once per run. */
export function transformerDataset(ctx: BenchContext): Promise<TransformerDataset> {
  let made = built.get(ctx);
  if (!made) {
    made = buildTransformerDataset(ctx);
    built.set(ctx, made);
  }
  return made;
}

async function buildTransformerDataset(ctx: BenchContext): Promise<TransformerDataset> {
  const model = await buildTransformerModel(transformerModelDir('small'), {
    size: SIZES.small,
    onProgress: (msg) => ctx.progress(`  transformer model: ${msg}`),
  });
  const docs = ctx.quick ? 256 : 512;
  const template = join(ctx.dir, 'transformer-dataset');
  ctx.progress(`  ingesting ${docs} documents through a node running ${model.id}`);
  const master = await ctx.startNode({
    id: 'transformer-ingest',
    dataDir: template,
    // As the datasets are built (context.ts): at the event loop's priority.
    env: { MODEL_DIR: model.dir, WORKER_THREAD_NICE: '0' },
  });
  const act = await master.client.activate(1);
  if (act.status !== 200) throw new Error(`activate: ${act.status} ${JSON.stringify(act.body)}`);
  const started = performance.now();
  for (let i = 0; i < docs; i += INGEST_BATCH) {
    const res = await master.client.upsert(benchDocs(i, Math.min(INGEST_BATCH, docs - i)), 1, 'applied');
    if (res.status !== 200) throw new Error(`ingest at ${i}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const ingestMs = performance.now() - started;
  await master.stop();
  return { model, template, docs, ingestMs };
}

/** The section's text, and its micro-batching ratio at concurrency 32 (hybrid) for the goals. */
export async function transformerSection(ctx: BenchContext): Promise<{ markdown: string; speedup: number }> {
  const { model, template, docs, ingestMs } = await transformerDataset(ctx);
  const env = { MODEL_DIR: model.dir };
  const alone = await embedderAlone(model.dir, ctx.quick ? 128 : 256);

  // Two nodes on copies of the dataset, batching on and off, for each question asked of them.
  const queries = benchQueries(2000, 12);
  const loadMatrix = (
    label: string,
    extra: Pick<Parameters<typeof runLoadMatrix>[1], 'mode' | 'concurrency' | 'env'>,
  ) =>
    runLoadMatrix(ctx, {
      label,
      prepare: async (dataDir) => cpSync(template, dataDir, { recursive: true }),
      env,
      // Interleaved rounds: one 6 s cell per setting swung the ratio by ±10 % between runs.
      rounds: ctx.sizes.rounds,
      queries,
      ...extra,
    });
  const matrix = await loadMatrix('transformer', {});
  const speedup = ratio(matrix.rep('on', 32).qps, matrix.rep('off', 32).qps);
  // The same question with vector searches only (no keyword ranking beside each query), at
  // concurrency 32; and the embedder's own saving per text from batching.
  const vectorOnly = await loadMatrix('transformer-vector', { mode: 'vector', concurrency: [32] });
  const vectorSpeedup = ratio(vectorOnly.rep('on', 32).qps, vectorOnly.rep('off', 32).qps);
  const cuda = await cudaPart(ctx, loadMatrix, env);
  const curve = await embedderBatchCurve(model.dir, benchQueries(256, 13));
  const single = curve[0]!.msPerText;
  const cores = machineInfo().nproc;
  const perCore = (perS: number) => formatCount(perS / cores);
  const alonePerS = perSecond(alone.docs, alone.ms);
  const markdown = [
    `### With the transformer-shaped model (\`${model.id}\`: 12 layers, hidden 384, 12 heads, FFN 1536, seeded weights)`,
    '',
    `Corpus: ${formatCount(docs)} synthetic documents ingested through the node (${INGEST_BATCH} per request, one in flight): ` +
      `${formatCount(perSecond(docs, ingestMs))} docs/s; the embedder alone, in-process, batches of 64: ` +
      `${formatCount(perSecond(alone.docs, alone.ms))} texts/s. Index Flat, CPU, ${ctx.sizes.rounds} interleaved round(s) of ${ctx.sizes.cellSeconds} s per cell.`,
    '',
    matrix.markdown,
    '',
    `Micro-batching at concurrency 32 with this model: ${formatRatio(speedup)} the unbatched queries/s.`,
    '',
    'The same at concurrency 32 with `mode: "vector"` (no keyword ranking beside each query):',
    '',
    vectorOnly.markdown,
    '',
    `Micro-batching at concurrency 32, vector searches: ${formatRatio(vectorSpeedup)} the unbatched queries/s.`,
    '',
    'The embedder alone, in-process, on query texts (no node, no search): ' +
      curve
        .map(
          (p) =>
            `batches of ${p.batch}: ${formatMs(p.msPerText)} ms per text (${formatRatio(ratio(single, p.msPerText))} of one at a time)`,
        )
        .join('; ') +
      '. This is the most micro-batching can give the node on this CPU.',
    '',
    `Per core (${cores} cores): the embedder alone ${perCore(alonePerS)} texts/s; the node at concurrency 32, ` +
      `batching on, ${perCore(matrix.rep('on', 32).qps)} queries/s (off: ${perCore(matrix.rep('off', 32).qps)}), ` +
      'each query one text to embed plus its search.',
    '',
    cuda,
  ].join('\n');
  return { markdown, speedup };
}

/**
 * The same matrix with EMBED_DEVICE=cuda, when the node really gets CUDA: a node asked for it is
 * started first, and one that fell back to the CPU (no GPU, or no CUDA provider) says so instead.
 */
async function cudaPart(
  ctx: BenchContext,
  loadMatrix: (
    label: string,
    extra: Pick<Parameters<typeof runLoadMatrix>[1], 'mode' | 'concurrency' | 'env'>,
  ) => ReturnType<typeof runLoadMatrix>,
  env: Record<string, string>,
): Promise<string> {
  const cudaEnv = { ...env, EMBED_DEVICE: 'cuda' };
  const probe = await ctx.startNode({
    id: 'transformer-cuda-probe',
    dataDir: join(ctx.dir, 'cuda-probe'),
    env: cudaEnv,
  });
  const info = await probe.client.call<{ model?: { device?: string } }>('GET', '/api/v1/info');
  await probe.stop();
  const device = info.body.model?.device ?? 'unknown';
  if (device !== 'cuda')
    return `With \`EMBED_DEVICE=cuda\`: not measured on this machine: the node asked for CUDA runs on \`${device}\` (no GPU, or no CUDA execution provider for ONNX Runtime here).`;
  ctx.progress('  transformer: the same matrix with EMBED_DEVICE=cuda');
  const matrix = await loadMatrix('transformer-cuda', { env: cudaEnv });
  const speedup = ratio(matrix.rep('on', 32).qps, matrix.rep('off', 32).qps);
  return [
    'With `EMBED_DEVICE=cuda` (the embedder on the GPU; search and keyword ranking on the CPU):',
    '',
    matrix.markdown,
    '',
    `Micro-batching at concurrency 32 on the GPU: ${formatRatio(speedup)} the unbatched queries/s.`,
  ].join('\n');
}
