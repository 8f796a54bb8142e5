// The terminal progress bar of `loadscope train`: one line on stderr redrawn at most 10 times a second
// (step, bar, ETA, tokens/s, loss, MaxVio); without a terminal, a plain line every 10 % instead.
import type { StepReport } from '../shared/reports';

interface Out {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressLine {
  private total = 0;
  private firstStep: number | null = null;
  private startedAt = 0;
  private lastDraw = 0;
  private lastDecile = -1;
  private last: StepReport | null = null;
  private drawn = false;

  constructor(private readonly out: Out) {}

  start(total: number): void {
    this.total = total;
    this.startedAt = Date.now();
  }

  update(r: StepReport): void {
    this.last = r;
    this.firstStep ??= r.step - 1;
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100 && r.step < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(r, now)}\x1b[K`);
      this.drawn = true;
    } else {
      const decile = Math.floor((10 * r.step) / Math.max(1, this.total));
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.out.write(`${this.line(r, now)}\n`);
    }
  }

  /** A message above the bar. */
  note(message: string): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.out.write(`loadscope: ${message}\n`);
    if (this.drawn && this.last) this.out.write(this.line(this.last, Date.now()));
  }

  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  line(r: StepReport, now: number): string {
    const done = Math.min(1, r.step / Math.max(1, this.total));
    const width = 24;
    const filled = Math.round(done * width);
    const stepsHere = r.step - (this.firstStep ?? 0);
    const eta = stepsHere > 0 ? ((now - this.startedAt) / stepsHere) * (this.total - r.step) : NaN;
    return [
      `step ${String(r.step).padStart(String(this.total).length)}/${this.total}`,
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(done * 100)).padStart(3)}%`,
      `ETA ${formatDuration(eta)}`,
      `${Math.round(r.tokensPerSec)} tok/s`,
      `loss ${r.loss.toFixed(3)}`,
      `MaxVio ${r.maxVio.toFixed(3)}`,
    ].join('  ');
  }
}
