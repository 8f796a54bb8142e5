// Per-layer balance figures of one training step and their running summaries (docs/strategies.md "Metrics"):
// demanded vs routed MaxVio, drop rate, load entropy, CV, idle and dead experts, gate mass. Checkpointable.
//
// Shape legend: L layers, E experts, K top-k slots, T tokens of the step; *LE arrays layer-major [L*E].
import { MaxVioAccumulator, coefficientOfVariation, idealLoad, maxVio, type MaxVioSummary } from '../../../shared/metrics';
import { DEAD_WINDOW, dropRate, idleExperts, normalizedEntropy } from '../../../shared/balance-metrics';
import type { BalanceStep } from '../../../shared/reports';

export { DEAD_WINDOW };

/** What one layer's routing gives the tracker. */
export interface LayerBalanceInput {
  loadE: ArrayLike<number>;
  demandLoadE: ArrayLike<number>;
  gateMassE: ArrayLike<number>;
  dropped: number;
}

export interface BalanceState {
  demand: MaxVioSummary;
  steps: number;
  dropRateSum: number;
  /** consecutive steps with zero routed load, per (layer, expert), layer-major */
  zeroStreakLE: number[];
}

const mean = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : 0;
};

export class BalanceTracker {
  private demand = new MaxVioAccumulator();
  private steps = 0;
  private dropRateSum = 0;
  private zeroStreakLE: Int32Array;

  constructor(
    private readonly layers: number,
    private readonly experts: number,
    private readonly topK: number,
  ) {
    this.zeroStreakLE = new Int32Array(layers * experts);
  }

  /** One training step of T tokens: every layer's routed load, demanded load, gate mass and dropped slots. */
  push(layers: LayerBalanceInput[], tokens: number): BalanceStep {
    const { experts: E, topK: K } = this;
    const L = layers.length;
    const ideal = idealLoad(K, tokens, E);
    const demandMaxVioL: number[] = [];
    const dropRateL: number[] = [];
    const entropyL: number[] = [];
    const cvL: number[] = [];
    const idleL: number[] = [];
    const deadL: number[] = [];
    const demandLoadsLE: number[] = [];
    const gateMassLE: number[] = [];
    const window = Math.min(DEAD_WINDOW, this.steps + 1);
    layers.forEach((r, l) => {
      demandMaxVioL.push(maxVio(r.demandLoadE, ideal));
      dropRateL.push(dropRate(r.dropped, K, tokens));
      entropyL.push(normalizedEntropy(r.loadE));
      cvL.push(coefficientOfVariation(r.loadE));
      idleL.push(idleExperts(r.loadE));
      let dead = 0;
      for (let e = 0; e < E; e++) {
        const i = l * E + e;
        this.zeroStreakLE[i] = r.loadE[e] === 0 ? this.zeroStreakLE[i]! + 1 : 0;
        if (this.zeroStreakLE[i]! >= window) dead++;
        demandLoadsLE.push(r.demandLoadE[e]!);
        gateMassLE.push(r.gateMassE[e]!);
      }
      deadL.push(dead);
    });
    this.demand.push(demandMaxVioL);
    const stepDrop = mean(dropRateL);
    this.dropRateSum += stepDrop;
    this.steps++;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return {
      demandMaxVioL,
      demandMaxVio: mean(demandMaxVioL),
      demandAvgMaxVio: this.demand.avg,
      demandSupMaxVio: this.demand.sup,
      dropRateL,
      dropRate: stepDrop,
      avgDropRate: this.dropRateSum / this.steps,
      entropyL,
      entropy: L ? mean(entropyL) : 0,
      cvL,
      cv: L ? mean(cvL) : 0,
      idleL,
      idle: sum(idleL),
      deadL,
      dead: sum(deadL),
      demandLoadsLE,
      gateMassLE,
    };
  }

  getState(): BalanceState {
    return { demand: this.demand.toJSON(), steps: this.steps, dropRateSum: this.dropRateSum, zeroStreakLE: Array.from(this.zeroStreakLE) };
  }

  setState(s: BalanceState): void {
    if (s.zeroStreakLE.length !== this.layers * this.experts) throw new Error(`checkpoint balance state has ${s.zeroStreakLE.length} experts, this model ${this.layers * this.experts}`);
    this.demand = MaxVioAccumulator.fromJSON(s.demand);
    this.steps = s.steps;
    this.dropRateSum = s.dropRateSum;
    this.zeroStreakLE = Int32Array.from(s.zeroStreakLE);
  }
}
