// Pure load-balancing metrics (balancing.md §6): loads, MaxVio, AvgMaxVio/SupMaxVio, CV, dead experts, objective ratio.
// No tf, no node: the engine, the store, the CLI and the renderer all import these.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; idxTK/keepTK row-major [T*K]; loadE per expert.

/** (token, slot) assignments per expert; slots with keepTK = 0 (dropped) do not count. */
export function loadsFromSelection(idxTK: ArrayLike<number>, keepTK: ArrayLike<number> | null, experts: number): Int32Array {
  const loadE = new Int32Array(experts);
  for (let i = 0; i < idxTK.length; i++) {
    if (keepTK && !keepTK[i]) continue;
    const e = idxTK[i]!;
    if (e < 0 || e >= experts || !Number.isInteger(e)) throw new RangeError(`expert index ${e} outside [0, ${experts})`);
    loadE[e]!++;
  }
  return loadE;
}

/** Ideal load k·T/E. */
export function idealLoad(topK: number, tokens: number, experts: number): number {
  return (topK * tokens) / experts;
}

/** MaxVio = (max_i load_i − ideal) / ideal (only overload counts; 0 when perfectly balanced). */
export function maxVio(loadE: ArrayLike<number>, ideal: number): number {
  if (!(ideal > 0)) return 0;
  let max = -Infinity;
  for (let i = 0; i < loadE.length; i++) max = Math.max(max, loadE[i]!);
  return loadE.length ? (max - ideal) / ideal : 0;
}

/** Coefficient of variation: population std / mean of the loads (0 for an empty or all-zero load). */
export function coefficientOfVariation(loadE: ArrayLike<number>): number {
  const n = loadE.length;
  if (!n) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += loadE[i]!;
  mean /= n;
  if (!(mean > 0)) return 0;
  let v = 0;
  for (let i = 0; i < n; i++) v += (loadE[i]! - mean) ** 2;
  return Math.sqrt(v / n) / mean;
}

/** Experts that received no token. */
export function deadExperts(loadE: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < loadE.length; i++) if (loadE[i] === 0) n++;
  return n;
}

/** Dropped (token, slot) pairs: keepTK = 0. */
export function droppedSlots(keepTK: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < keepTK.length; i++) if (!keepTK[i]) n++;
  return n;
}

/** Σ of the selected (kept) gate scores; scoresTE row-major [T*E]. */
export function routingObjective(scoresTE: ArrayLike<number>, idxTK: ArrayLike<number>, keepTK: ArrayLike<number> | null, experts: number, topK: number): number {
  let sum = 0;
  for (let i = 0; i < idxTK.length; i++) {
    if (keepTK && !keepTK[i]) continue;
    const t = Math.floor(i / topK);
    sum += scoresTE[t * experts + idxTK[i]!]!;
  }
  return sum;
}

/** objective ÷ optimum (1 = the exact optimum; > 1 only when the routing breaks capacity, e.g. plain top-k). */
export function objectiveRatio(objective: number, optimum: number): number {
  if (optimum === 0) return objective === 0 ? 1 : NaN;
  return objective / optimum;
}

export interface MaxVioSummary {
  steps: number;
  /** mean over steps of the per-step mean over layers */
  avg: number;
  /** max over steps of the per-step mean over layers */
  sup: number;
  /** max over steps and layers (the worst single layer) */
  supLayer: number;
  /** running mean over steps of each layer's MaxVio */
  avgByLayer: number[];
  /** max over steps of each layer's MaxVio */
  supByLayer: number[];
}

/**
 * AvgMaxVio / SupMaxVio over training steps (balancing.md §6): per step v_t = mean over layers of MaxVio_batch,
 * AvgMaxVio = mean_t v_t, SupMaxVio = max_t v_t; the worst layer (max over steps and layers) separately.
 */
export class MaxVioAccumulator {
  private steps = 0;
  private sum = 0;
  private max = 0;
  private maxLayer = 0;
  private layerSum: number[] = [];
  private layerMax: number[] = [];

  /** One training step: MaxVio of every MoE layer. */
  push(maxVioL: ArrayLike<number>): void {
    const n = maxVioL.length;
    if (!n) return;
    let mean = 0;
    for (let l = 0; l < n; l++) {
      const v = maxVioL[l]!;
      mean += v;
      this.layerSum[l] = (this.layerSum[l] ?? 0) + v;
      this.layerMax[l] = Math.max(this.layerMax[l] ?? v, v);
      this.maxLayer = this.steps === 0 && l === 0 ? v : Math.max(this.maxLayer, v);
    }
    mean /= n;
    this.max = this.steps === 0 ? mean : Math.max(this.max, mean);
    this.sum += mean;
    this.steps++;
  }

  get count(): number {
    return this.steps;
  }
  get avg(): number {
    return this.steps ? this.sum / this.steps : 0;
  }
  get sup(): number {
    return this.max;
  }
  get supLayer(): number {
    return this.maxLayer;
  }

  toJSON(): MaxVioSummary {
    return {
      steps: this.steps,
      avg: this.avg,
      sup: this.sup,
      supLayer: this.supLayer,
      avgByLayer: this.layerSum.map((s) => (this.steps ? s / this.steps : 0)),
      supByLayer: [...this.layerMax],
    };
  }

  /** Resume from a saved summary (e.g. a checkpoint), so the running figures continue exactly. */
  static fromJSON(json: MaxVioSummary): MaxVioAccumulator {
    const acc = new MaxVioAccumulator();
    acc.steps = json.steps;
    acc.sum = json.avg * json.steps;
    acc.max = json.sup;
    acc.maxLayer = json.supLayer;
    acc.layerSum = json.avgByLayer.map((a) => a * json.steps);
    acc.layerMax = [...json.supByLayer];
    return acc;
  }
}
