// Per-step scalar columns parsed from steps.jsonl, and their downsampling (keeps the extremes of maxVio).
import type { ScalarSeries } from '../../shared/ipc-contract';

const COLUMNS = ['loss', 'maxVio', 'avgMaxVio', 'supMaxVio', 'tokensPerSec', 'lr', 'dropRate', 'avgDropRate', 'demandMaxVio', 'demandAvgMaxVio', 'entropy', 'cv', 'idle', 'dead', 'elapsedMs', 'maxVioMicro'] as const;
type Column = (typeof COLUMNS)[number];

/** Growable numeric columns, one entry per step line. */
export class ScalarColumns {
  length = 0;
  steps = new Float64Array(1024);
  cols: Record<Column, Float64Array> = Object.fromEntries(COLUMNS.map((c) => [c, new Float64Array(1024)])) as Record<Column, Float64Array>;
  private runMean = 0;
  private runMax = -Infinity;

  /** Add a parsed step line. Missing avgMaxVio / supMaxVio (external trainers) are the running mean / max of maxVio. */
  push(rec: Record<string, unknown>): void {
    if (this.length === this.steps.length) this.grow();
    const i = this.length++;
    this.steps[i] = rec.step as number;
    for (const c of COLUMNS) this.cols[c][i] = typeof rec[c] === 'number' ? (rec[c] as number) : NaN;
    const v = this.cols.maxVio[i]!;
    if (!Number.isNaN(v)) {
      this.runMean += (v - this.runMean) / (i + 1);
      this.runMax = Math.max(this.runMax, v);
      if (Number.isNaN(this.cols.avgMaxVio[i]!)) this.cols.avgMaxVio[i] = this.runMean;
      if (Number.isNaN(this.cols.supMaxVio[i]!)) this.cols.supMaxVio[i] = this.runMax;
    }
  }

  private grow(): void {
    const n = this.steps.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.steps = grow(this.steps);
    for (const c of COLUMNS) this.cols[c] = grow(this.cols[c]);
  }

  /** first index with steps[i] ≥ step */
  indexAtOrAfter(step: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid]! < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  series(fromStep: number | undefined, toStep: number | undefined, maxPoints: number): Omit<ScalarSeries, 'eval'> {
    const i0 = fromStep === undefined ? 0 : this.indexAtOrAfter(fromStep);
    const i1 = toStep === undefined ? this.length : this.indexAtOrAfter(toStep + 1);
    const idx = downsampleIndexes(this.cols.maxVio, i0, i1, maxPoints);
    // missing values stay NaN here (JSON turns them into null)
    const pick = (a: Float64Array) => idx.map((i) => a[i]!);
    return {
      steps: pick(this.steps),
      loss: pick(this.cols.loss),
      maxVio: pick(this.cols.maxVio),
      avgMaxVio: pick(this.cols.avgMaxVio),
      supMaxVio: pick(this.cols.supMaxVio),
      tokensPerSec: pick(this.cols.tokensPerSec),
      lr: pick(this.cols.lr),
      // NaN (null in JSON) for runs written before these were recorded
      dropRate: pick(this.cols.dropRate),
      avgDropRate: pick(this.cols.avgDropRate),
      demandMaxVio: pick(this.cols.demandMaxVio),
      demandAvgMaxVio: pick(this.cols.demandAvgMaxVio),
      entropy: pick(this.cols.entropy),
      cv: pick(this.cols.cv),
      idle: pick(this.cols.idle),
      dead: pick(this.cols.dead),
      elapsedMs: pick(this.cols.elapsedMs),
      // NaN except in runs with microBatches > 1 (there maxVio is the global batch's)
      maxVioMicro: pick(this.cols.maxVioMicro),
    };
  }
}

/**
 * Indexes of at most maxPoints points of [i0, i1): all when they fit; otherwise maxPoints/2 equal buckets
 * each keeping its lowest and highest `key` (maxVio) in step order, so spikes are never averaged away.
 * The last point is always kept (charts show the latest value).
 */
export function downsampleIndexes(key: Float64Array, i0: number, i1: number, maxPoints: number): number[] {
  const n = Math.max(0, i1 - i0);
  if (n <= maxPoints) return Array.from({ length: n }, (_, k) => i0 + k);
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const a = i0 + Math.floor((b * n) / buckets);
    const e = i0 + Math.floor(((b + 1) * n) / buckets);
    let lo = a;
    let hi = a;
    for (let i = a; i < e; i++) {
      // NaN compares false: a bucket of missing values keeps its first index
      if (key[i]! < key[lo]!) lo = i;
      if (key[i]! > key[hi]!) hi = i;
    }
    if (b === buckets - 1 && hi !== e - 1 && lo !== e - 1) {
      // make room for the last point: keep the larger extreme and the last step
      const keep = key[hi]! >= key[lo]! ? hi : lo;
      out.push(keep, e - 1);
      continue;
    }
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  return out;
}
