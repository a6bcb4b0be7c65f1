/**
 * CPU time of local processes from /proc (Linux), for suites that must say what a process costs
 * per request and not only how long requests took: on a 2-core machine the edge's workerd and
 * the search node share the same cores, so the edge's CPU is also the node's lost CPU.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  name: string;
  ppid: number;
  cpuSeconds: number;
}

function stat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    return {
      pid,
      name,
      ppid: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    };
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  return stat(pid)?.cpuSeconds ?? 0;
}

/** The parent's pid (0 when the process is gone). */
export function parentOf(pid: number): number {
  return stat(pid)?.ppid ?? 0;
}

/** Pids of the processes called `name` below `ancestor` (children, grandchildren, ...). */
export function descendantsNamed(ancestor: number, name: string): number[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is ProcStat => s !== null);
  const parentOf = new Map(all.map((s) => [s.pid, s.ppid]));
  const below = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p))
      if (p === ancestor) return true;
    return false;
  };
  return all.filter((s) => s.name === name && below(s.pid)).map((s) => s.pid);
}
