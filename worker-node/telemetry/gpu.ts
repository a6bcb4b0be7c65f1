/**
 * GPU telemetry from nvidia-smi, polled in the background so that /health never waits for it.
 * On a machine without nvidia-smi (CI, CPU nodes) the reading is null and polling stops.
 */
import { execFile } from 'node:child_process';
import type { GpuTelemetry } from '../../shared/schemas.ts';

export interface GpuSample extends GpuTelemetry {
  at: number;
}

export class GpuMonitor {
  latest: GpuTelemetry | null = null;
  /** Recent samples (about two minutes) for failover diagnostics. */
  readonly history: GpuSample[] = [];
  private timer: NodeJS.Timeout | null = null;

  start(intervalMs = 2000): void {
    const poll = () => {
      execFile(
        'nvidia-smi',
        [
          '--query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu',
          '--format=csv,noheader,nounits',
          '-i',
          '0',
        ],
        { timeout: 1500 },
        (err, stdout) => {
          if (err) {
            // Not installed: stop asking. Installed but failing (driver reset, Xid): report and keep trying.
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.stop();
            this.latest = null;
            return;
          }
          const reading = parseNvidiaSmi(stdout);
          this.latest = reading;
          if (reading) {
            this.history.push({ ...reading, at: Date.now() });
            if (this.history.length > 60) this.history.shift();
          }
        },
      );
    };
    poll();
    this.timer = setInterval(poll, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Parses one line of `nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(stdout: string): GpuTelemetry | null {
  const line = stdout.trim().split('\n')[0];
  if (!line) return null;
  const [util, used, total, temp] = line.split(',').map((s) => Number(s.trim()));
  if ([util, used, total, temp].some((n) => n === undefined || !Number.isFinite(n))) return null;
  return { util: util!, mem_used_mb: used!, mem_total_mb: total!, temp_c: temp! };
}
