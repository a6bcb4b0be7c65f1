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

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':').slice(1).join(':').trim();
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
