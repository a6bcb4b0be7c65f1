/**
 * Whether the data directory takes writes: every few seconds, off the request path, write a small
 * file, fsync it and remove it. /health reads the last result (constant time); a full disk, a
 * read-only remount or a hung mount shows there before the next SQLite write fails.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const PROBE_FILE = '.write-probe';

export class DiskProbe {
  private result = 'not probed yet';
  /** When the probe in flight started (null: none in flight). */
  private inFlightSince: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dir: string,
    private readonly intervalMs = 5000,
    /** A probe still unfinished after this long means the disk hangs. */
    private readonly stuckMs = 10_000,
  ) {}

  /** `ok`, or why the data directory does not take writes. */
  get state(): string {
    const since = this.inFlightSince;
    if (since !== null && Date.now() - since > this.stuckMs)
      return `stuck: a write and fsync in ${this.dir} has not finished for ${Math.round((Date.now() - since) / 1000)} s`;
    return this.result;
  }

  /** Resolves after the first probe, then probes every `intervalMs`. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async probe(): Promise<void> {
    // One at a time: a hung probe is reported as stuck, not piled up behind.
    if (this.inFlightSince !== null) return;
    this.inFlightSince = Date.now();
    const file = join(this.dir, PROBE_FILE);
    try {
      const handle = await open(file, 'w');
      try {
        await handle.writeFile(`${Date.now()}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await unlink(file);
      this.result = 'ok';
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.result = `not writable: ${e.code ?? 'error'} ${e.message}`.slice(0, 200);
    } finally {
      this.inFlightSince = null;
    }
  }
}
