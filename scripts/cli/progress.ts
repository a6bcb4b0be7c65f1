/**
 * A progress bar on stderr (stdout stays for results). On a terminal it redraws one line; on a
 * pipe or a log file it prints a plain line per update, at most one per second plus the last.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export function renderBar(done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export class ProgressBar {
  private lastPlain = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly total: number,
    private readonly now: () => number = Date.now,
    /** What is counted: `lines` of a file for the CLI, `documents` or `searches` elsewhere. */
    private readonly unit = 'lines',
  ) {}

  update(done: number, detail: string): void {
    const text = `${this.label} ${renderBar(done, this.total, 30)} ${done}/${this.total} ${this.unit}${detail ? `  ${detail}` : ''}`;
    if (this.stream.isTTY) {
      const max = (this.stream.columns ?? 100) - 1;
      this.stream.write(`\r\x1b[K${text.slice(0, max)}`);
      this.drawn = true;
      return;
    }
    const t = this.now();
    if (t - this.lastPlain >= 1000 || done >= this.total) {
      this.lastPlain = t;
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the bar's line so that other output starts on a fresh one. */
  interrupt(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
