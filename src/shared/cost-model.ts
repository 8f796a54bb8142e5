// Expert-parallel cost model: what a routing would cost if the E experts lived on D devices (the cost of imbalance is time).
//
// Shape legend: T tokens, E experts, K top-k slots, D devices; loadE kept (token, slot) assignments per expert;
//   deviceOfE the device holding each expert; loadD assignments each device must compute.
// Model (deliberately simple, stated in docs/strategies.md): the batch's T tokens start split evenly across the D
// devices in order (token t lives on device ⌊t·D/T⌋, as a data-parallel shard would); each kept assignment whose
// expert lives elsewhere crosses the network twice (dispatch and combine) carrying dModel values. A layer's expert
// compute waits for its busiest device, so the implied MoE time of a layer is max_d loadD, and perfect balance is
// Σ loadD / D. Layers run one after another, so a step's ratio sums over layers. Nothing here is measured on devices.

export interface ExpertParallelSpec {
  devices: number;
  /** device of each expert; round-robin (e mod D) when absent */
  placement?: readonly number[];
  /** per-device capacity ⌈factor·k·T/D⌉ (assignments above it would be dropped or wait a second round) */
  deviceCapacityFactor: number;
  /** bytes of one activation value on the wire (2 = bf16) */
  bytesPerValue: number;
}

/** One layer's cost for one step. */
export interface LayerCost {
  loadD: number[];
  /** busiest device's share of all assignments (1/D = perfect) */
  slowestShare: number;
  /** max_d loadD ÷ (Σ loadD / D): the layer's expert time relative to perfect balance */
  timeRatio: number;
  /** assignments above the device capacity */
  overCapacity: number;
  /** kept assignments whose expert is not on the token's home device */
  crossTokens: number;
  crossBytes: number;
}

/** One step over all layers: step-level numbers a run records per step. */
export interface StepCost {
  /** mean over layers of the busiest device's share */
  slowestShare: number;
  /** Σ_l max_d loadD ÷ Σ_l mean_d loadD: implied MoE step time relative to perfect balance */
  stepTimeRatio: number;
  overCapacity: number;
  crossTokens: number;
  crossBytes: number;
}

export function deviceOf(spec: ExpertParallelSpec, experts: number): Int32Array {
  const out = new Int32Array(experts);
  for (let e = 0; e < experts; e++) out[e] = spec.placement ? spec.placement[e]! : e % spec.devices;
  return out;
}

/** Why a spec cannot place these experts, or null. */
export function placementError(spec: ExpertParallelSpec, experts: number): string | null {
  if (spec.devices > experts) return `${spec.devices} devices cannot each hold one of ${experts} experts`;
  if (!spec.placement) return null;
  if (spec.placement.length !== experts) return `placement lists ${spec.placement.length} devices; it needs one per expert (${experts})`;
  const bad = spec.placement.findIndex((d) => !Number.isInteger(d) || d < 0 || d >= spec.devices);
  if (bad >= 0) return `placement[${bad}] = ${spec.placement[bad]} is not a device in 0..${spec.devices - 1}`;
  return null;
}

/**
 * One layer from its selection. T tokens, K slots each (idxTK/keepTK row-major [T*K]); dModel values per token.
 */
export function layerCost(spec: ExpertParallelSpec, idxTK: ArrayLike<number>, keepTK: ArrayLike<number>, T: number, K: number, experts: number, dModel: number): LayerCost {
  const D = spec.devices;
  const dev = deviceOf(spec, experts);
  const loadD = new Array<number>(D).fill(0);
  let cross = 0;
  for (let i = 0; i < T * K; i++) {
    if (!keepTK[i]) continue;
    const t = Math.floor(i / K);
    const d = dev[idxTK[i]!]!;
    loadD[d]!++;
    if (d !== Math.floor((t * D) / T)) cross++;
  }
  const total = loadD.reduce((a, b) => a + b, 0);
  const max = Math.max(...loadD);
  const cap = Math.ceil((spec.deviceCapacityFactor * K * T) / D - 1e-9);
  return {
    loadD,
    slowestShare: total > 0 ? max / total : 0,
    timeRatio: total > 0 ? max / (total / D) : 1,
    overCapacity: loadD.reduce((a, l) => a + Math.max(0, l - cap), 0),
    crossTokens: cross,
    // there (dispatch) and back (combine)
    crossBytes: cross * dModel * spec.bytesPerValue * 2,
  };
}

/** Combine a step's layers (layers run in sequence: times add). */
export function stepCost(layers: readonly LayerCost[], devices: number): StepCost {
  let maxSum = 0;
  let meanSum = 0;
  let share = 0;
  const out = { overCapacity: 0, crossTokens: 0, crossBytes: 0 };
  for (const l of layers) {
    const total = l.loadD.reduce((a, b) => a + b, 0);
    maxSum += Math.max(...l.loadD);
    meanSum += total / devices;
    share += l.slowestShare;
    out.overCapacity += l.overCapacity;
    out.crossTokens += l.crossTokens;
    out.crossBytes += l.crossBytes;
  }
  return { slowestShare: layers.length ? share / layers.length : 0, stepTimeRatio: meanSum > 0 ? maxSum / meanSum : 1, ...out };
}

/** Run-level figures from the per-step records (time ratios weight every step equally: equal tokens per step). */
export interface RunCost {
  steps: number;
  devices: number;
  meanSlowestShare: number;
  maxSlowestShare: number;
  /** Σ steps of the implied MoE time ÷ the same at perfect balance */
  stepTimeRatio: number;
  crossTokens: number;
  crossBytes: number;
  overCapacity: number;
}

export function runCost(steps: readonly StepCost[], devices: number): RunCost {
  const n = steps.length;
  const sum = (f: (s: StepCost) => number) => steps.reduce((a, s) => a + f(s), 0);
  return {
    steps: n,
    devices,
    meanSlowestShare: n ? sum((s) => s.slowestShare) / n : 0,
    maxSlowestShare: n ? Math.max(...steps.map((s) => s.slowestShare)) : 0,
    stepTimeRatio: n ? sum((s) => s.stepTimeRatio) / n : 1,
    crossTokens: sum((s) => s.crossTokens),
    crossBytes: sum((s) => s.crossBytes),
    overCapacity: sum((s) => s.overCapacity),
  };
}

/** What a run reports (getRun, `runs show --json`): the run-level figures, the layout, and the latest step's figures. */
export type RunCostReport =
  | (RunCost & { placement: number[] | 'round-robin'; deviceCapacityFactor: number; bytesPerValue: number; latest: (StepCost & { step: number }) | null })
  | { unavailable: string };
