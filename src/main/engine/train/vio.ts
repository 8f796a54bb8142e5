// MaxVio bookkeeping for the trainer, on top of src/shared/metrics.ts: per-layer MaxVio of a load vector
// against the ideal k·T/E, and the running AvgMaxVio/SupMaxVio with a checkpointable state.
import { MaxVioAccumulator, idealLoad, maxVio, type MaxVioSummary } from '../../../shared/metrics';

/** MaxVio of one layer's load for `tokens` tokens routed to k of E experts each. */
export function maxVioOf(loadE: ArrayLike<number>, topK: number, tokens: number): number {
  return maxVio(loadE, idealLoad(topK, tokens, loadE.length));
}

export type VioState = MaxVioSummary;

export class VioTracker {
  private acc = new MaxVioAccumulator();

  push(maxVioL: ArrayLike<number>): { maxVio: number; avgMaxVio: number; supMaxVio: number; supMaxVioLayer: number } {
    this.acc.push(maxVioL);
    let mean = 0;
    for (let l = 0; l < maxVioL.length; l++) mean += maxVioL[l]!;
    return { maxVio: mean / Math.max(1, maxVioL.length), avgMaxVio: this.acc.avg, supMaxVio: this.acc.sup, supMaxVioLayer: this.acc.supLayer };
  }

  getState(): VioState {
    return this.acc.toJSON();
  }

  setState(s: VioState): void {
    this.acc = MaxVioAccumulator.fromJSON(s);
  }
}
