// Grouped curves: runs' series binned onto shared x buckets, grouped (strategy / option / tag) into mean ± sd
// bands, smoothed, on step / tokens / training-time axes. Pure functions of plain numbers.
import type { ScalarSeries } from '../../../shared/ipc-contract';
import { smoothEma } from './smoothing';

export type XAxisKind = 'step' | 'tokens' | 'time';
export type Metric = 'loss' | 'maxVio' | 'avgMaxVio' | 'supMaxVio';

export interface CurveRun {
  runId: string;
  label: string;
  group: string;
  tokensPerStep: number;
  scalars: ScalarSeries;
}

/** x of each point: the step, tokens seen (step × tokens per step) or training seconds (Σ tokens / tokens/s) */
export function xValues(run: CurveRun, kind: XAxisKind): number[] {
  const s = run.scalars;
  if (kind === 'step') return s.steps.slice();
  if (kind === 'tokens') return s.steps.map((st) => st * run.tokensPerStep);
  // downsampled series: each point stands for the steps since the previous one
  let t = 0;
  let prev = 0;
  return s.steps.map((st, i) => {
    const tps = s.tokensPerSec[i] ?? 0;
    t += tps > 0 ? ((st - prev) * run.tokensPerStep) / tps : 0;
    prev = st;
    return t;
  });
}

/** Mean of y in at most `bins` equal-width x buckets (long step ranges are binned before charting). */
export function binPairs(xs: number[], ys: number[], bins: number, lo?: number, hi?: number): Array<[number, number]> {
  if (xs.length <= bins && lo === undefined) return xs.map((x, i) => [x, ys[i]!]);
  const a = lo ?? Math.min(...xs);
  const b = hi ?? Math.max(...xs);
  const width = (b - a) / bins || 1;
  const sum = new Float64Array(bins);
  const cnt = new Uint32Array(bins);
  const sx = new Float64Array(bins);
  xs.forEach((x, i) => {
    const y = ys[i]!;
    if (!Number.isFinite(y)) return;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((x - a) / width)));
    sum[k] += y;
    sx[k] += x;
    cnt[k]++;
  });
  const out: Array<[number, number]> = [];
  for (let k = 0; k < bins; k++) if (cnt[k]) out.push([sx[k]! / cnt[k]!, sum[k]! / cnt[k]!]);
  return out;
}

export interface Band {
  group: string;
  runs: number;
  /** x, mean, mean − sd, mean + sd per shared bucket (buckets where at least one run has a point) */
  points: Array<{ x: number; mean: number; lo: number; hi: number }>;
}

/** One band per group: every run binned onto the same buckets, then mean ± sample sd over the runs. */
export function bandsOf(runs: CurveRun[], metric: Metric, kind: XAxisKind, smoothing: number, bins = 200): Band[] {
  const xsOf = new Map(runs.map((r) => [r.runId, xValues(r, kind)]));
  const all = [...xsOf.values()].flat();
  if (!all.length) return [];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const groups = new Map<string, CurveRun[]>();
  for (const r of runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  const width = (hi - lo) / bins || 1;
  return [...groups.entries()].map(([group, members]) => {
    const perBucket = new Map<number, { xs: number[]; ys: number[] }>();
    for (const r of members) {
      const ys = smoothEma(r.scalars[metric], smoothing);
      for (const [x, y] of binPairs(xsOf.get(r.runId)!, ys, bins, lo, hi)) {
        const k = Math.min(bins - 1, Math.floor((x - lo) / width));
        const b = perBucket.get(k) ?? { xs: [], ys: [] };
        b.xs.push(x);
        b.ys.push(y);
        perBucket.set(k, b);
      }
    }
    // x of a bucket: the mean x of its points (exact steps while steps ≤ bins)
    const points = [...perBucket.entries()].sort((a, b) => a[0] - b[0]).map(([, { xs, ys }]) => {
      const m = ys.reduce((s, y) => s + y, 0) / ys.length;
      const sd = ys.length > 1 ? Math.sqrt(ys.reduce((s, y) => s + (y - m) ** 2, 0) / (ys.length - 1)) : 0;
      return { x: xs.reduce((s, x) => s + x, 0) / xs.length, mean: m, lo: m - sd, hi: m + sd };
    });
    return { group, runs: members.length, points };
  });
}
