// Coalesces a run's step reports into `run:frame` events: at most one frame per interval (20 per second),
// each carrying every scalar point since the previous frame and the latest per-layer expert loads.
import type { EventPayloads } from '../../shared/ipc-contract';
import type { EvalReport, StepReport, TopTokensReport } from '../../shared/reports';

type Frame = EventPayloads['run:frame'];
export const FRAME_INTERVAL_MS = 50;

export class RunFrames {
  private points: Frame['points'] = [];
  private latest: StepReport | null = null;
  private evalReport: EvalReport | undefined;
  private topTokens: TopTokensReport | undefined;
  private lastEmitAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** exponential moving average of milliseconds per step, for the ETA */
  private msPerStep: number | null = null;

  constructor(
    private readonly runId: string,
    private totalSteps: number,
    /** k experts per token: the ideal load of one expert in one step is k·tokens/N */
    private readonly topK: number,
    private readonly emit: (frame: Frame) => void,
    private readonly intervalMs = FRAME_INTERVAL_MS,
  ) {}

  setTotalSteps(n: number): void {
    this.totalSteps = n;
  }

  addStep(r: StepReport): void {
    if (this.latest && r.step > this.latest.step && r.elapsedMs > this.latest.elapsedMs) {
      const ms = (r.elapsedMs - this.latest.elapsedMs) / (r.step - this.latest.step);
      this.msPerStep = this.msPerStep === null ? ms : 0.9 * this.msPerStep + 0.1 * ms;
    }
    this.latest = r;
    this.points.push({
      step: r.step, loss: r.loss, maxVio: r.maxVio, avgMaxVio: r.avgMaxVio, supMaxVio: r.supMaxVio, tokensPerSec: r.tokensPerSec, lr: r.lr, dropped: r.dropped,
      dropRate: r.dropRate, avgDropRate: r.avgDropRate, demandMaxVio: r.demandMaxVio, demandAvgMaxVio: r.demandAvgMaxVio, entropy: r.entropy, cv: r.cv, idle: r.idle, dead: r.dead, elapsedMs: r.elapsedMs,
      ...(r.maxVioMicro === undefined ? {} : { maxVioMicro: r.maxVioMicro }),
    });
    this.schedule();
  }

  addEval(r: EvalReport): void {
    this.evalReport = r;
    this.schedule();
  }

  addTopTokens(r: TopTokensReport): void {
    this.topTokens = r;
    this.schedule();
  }

  /** Emit whatever is pending now (end of run, status change). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const r = this.latest;
    if (!r || (this.points.length === 0 && !this.evalReport && !this.topTokens)) return;
    const frame: Frame = {
      runId: this.runId,
      step: r.step,
      totalSteps: this.totalSteps,
      points: this.points,
      loadsLE: Array.from(r.loadsLE),
      gateMassLE: r.gateMassLE,
      layers: r.layers,
      experts: r.experts,
      idealLoad: (this.topK * r.tokens) / r.experts,
      etaMs: this.msPerStep === null ? null : Math.max(0, this.totalSteps - r.step) * this.msPerStep,
    };
    if (this.evalReport) frame.eval = this.evalReport;
    if (this.topTokens) frame.topTokens = this.topTokens;
    this.points = [];
    this.evalReport = undefined;
    this.topTokens = undefined;
    this.lastEmitAt = Date.now();
    this.emit(frame);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastEmitAt + this.intervalMs - Date.now();
    if (wait <= 0 && this.latest) this.flush();
    else this.timer = setTimeout(() => this.flush(), Math.max(0, wait));
  }
}
