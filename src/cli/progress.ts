/**
 * A one-line progress bar on stderr. Silent unless stderr is a terminal, so pipes and CI logs stay clean.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly started = performance.now();
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  /** Redraws at most ten times a second. `rows` is shown with a rate. */
  update(done: number, total: number, rows?: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    const seconds = (now - this.started) / 1000;
    const rate =
      rows !== undefined && seconds > 0
        ? `  ${formatCount(rows)} rows  ${formatCount(rows / seconds)} rows/s`
        : '';
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${rate}\x1b[K`,
    );
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
