/** The machine a run happened on, for the report header: cores, memory, CPU model, load, date. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  loadAverage: [number, number, number];
}

/**
 * The CPU as /proc/cpuinfo names it, with its family and model numbers and its widest SIMD (a
 * cloud "AMD EPYC" may be one of several generations, and ONNX Runtime's and FAISS's kernels run
 * at very different speeds on AVX2 and AVX-512): e.g. `AMD EPYC, family 25 model 1, avx2`.
 */
function describeCpu(cpuinfo: string): string | null {
  const field = (name: string) =>
    cpuinfo
      .split('\n')
      .find((l) => l.startsWith(name))
      ?.split(':')
      .slice(1)
      .join(':')
      .trim();
  const model = field('model name');
  if (!model) return null;
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  const simd = flags.has('avx512f') ? 'avx512f' : flags.has('avx2') ? 'avx2' : 'no avx2';
  const family = field('cpu family');
  const number = field('model\t') ?? field('model ');
  return [model, family && number ? `family ${family} model ${number}` : null, simd]
    .filter(Boolean)
    .join(', ');
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = describeCpu(readFileSync('/proc/cpuinfo', 'utf8')) ?? cpuModel;
  } catch {
    /* not Linux: os.cpus() it is */
  }
  const [a, b, c] = loadavg();
  return {
    nproc: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpuModel,
    node: process.version,
    loadAverage: [a!, b!, c!],
  };
}

export function formatLoad(l: readonly number[]): string {
  return l.map((x) => x.toFixed(2)).join(' / ');
}
