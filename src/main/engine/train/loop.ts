// The training loop around a Trainer: commands (pause, resume, stop, checkpoint) and reports, in a fixed
// order per step: lr → forward/backward/step → strategy after-step → report → checkpoint → pause/stop check.
// It knows nothing of threads: the worker wires `post` to postMessage, tests call it in-process.
import type { RunConfig } from '../../../shared/run-config';
import type { CheckpointData, WorkerReport } from '../../../shared/worker-protocol';
import type { Trainer } from './trainer';

export type Post = (msg: WorkerReport) => void;

/** Hand control to the event loop so queued commands (pause, stop…) are seen between steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class TrainingLoop {
  private paused = false;
  private stopRequested = false;
  private checkpointRequests: Array<'manual' | 'quit'> = [];
  private wake: (() => void) | null = null;

  constructor(
    private readonly runId: string,
    private readonly trainer: Trainer,
    private readonly post: Post,
    private readonly stopAtStep?: number,
  ) {}

  pause(): void {
    if (this.paused || this.stopRequested) return;
    this.paused = true;
    this.post({ type: 'state', runId: this.runId, state: 'paused' });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.post({ type: 'state', runId: this.runId, state: 'running' });
    this.wakeUp();
  }

  stop(): void {
    this.stopRequested = true;
    this.wakeUp();
  }

  /** Served at the next step boundary (at once while paused). */
  requestCheckpoint(reason: 'manual' | 'quit'): void {
    this.checkpointRequests.push(reason);
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async sendCheckpoint(reason: 'manual' | 'periodic' | 'final' | 'quit'): Promise<void> {
    const checkpoint: CheckpointData = await this.trainer.exportCheckpoint();
    this.post({ type: 'checkpoint', runId: this.runId, reason, checkpoint });
  }

  private async serveCheckpointRequests(): Promise<void> {
    // one checkpoint answers every request queued since the last step (they would be identical)
    const reasons = this.checkpointRequests.splice(0);
    if (reasons.length > 0) await this.sendCheckpoint(reasons.includes('quit') ? 'quit' : 'manual');
  }

  async run(): Promise<void> {
    const c: RunConfig = this.trainer.config;
    const tr = this.trainer;
    const end = Math.min(c.steps, this.stopAtStep ?? Number.POSITIVE_INFINITY);
    const due = (every: number, step: number) => every > 0 && step % every === 0;
    let lastEval = -1;
    this.post({ type: 'state', runId: this.runId, state: 'running' });
    while (tr.step < end && !this.stopRequested) {
      const next = tr.step + 1;
      const { report, topTokens } = await tr.trainStep({ oracle: due(c.oracleEvery, next), topTokens: due(c.topTokensEvery, next) });
      this.post({ type: 'step', runId: this.runId, report });
      if (topTokens) this.post({ type: 'top-tokens', runId: this.runId, report: topTokens });
      if (due(c.evalEvery, tr.step)) {
        // the last step's evaluation uses the whole held-out set (valTokens): that is the run's MaxVio_global
        this.post({ type: 'eval', runId: this.runId, report: await tr.evaluate({ final: tr.step >= c.steps }) });
        lastEval = tr.step;
      }
      if (due(c.checkpointEvery, tr.step) && tr.step < end) await this.sendCheckpoint('periodic');
      await this.serveCheckpointRequests();
      await yieldToEventLoop();
      while (this.paused && !this.stopRequested) {
        await this.serveCheckpointRequests();
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    }
    const completed = tr.step >= c.steps;
    if (completed && c.evalEvery > 0 && lastEval !== tr.step) this.post({ type: 'eval', runId: this.runId, report: await tr.evaluate({ final: true }) });
    this.checkpointRequests = [];
    await this.sendCheckpoint('final');
    this.post({ type: 'finished', runId: this.runId, state: completed ? 'completed' : 'stopped', step: tr.step });
  }
}
