// Seed statistics for sweeps: mean, sample spread, Student-t 95 % intervals and paired differences.

/** two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (standard table values) */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t_{0.975, df}: the table up to 30, then the Cornish–Fisher expansion around the normal quantile. */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) return NaN;
  if (df <= 30) return T975[Math.floor(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** sample standard deviation (n − 1); NaN below two values */
export function sampleSd(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export interface Interval {
  n: number;
  mean: number;
  sd: number;
  /** 95 % confidence interval of the mean (NaN with fewer than 2 values) */
  lo: number;
  hi: number;
}

/** mean ± t_{0.975,n−1}·sd/√n */
export function meanCI(xs: number[]): Interval {
  const n = xs.length;
  const m = mean(xs);
  const sd = sampleSd(xs);
  const half = n >= 2 ? (tQuantile975(n - 1) * sd) / Math.sqrt(n) : NaN;
  return { n, mean: m, sd, lo: m - half, hi: m + half };
}

/**
 * Paired differences candidate − baseline over the seeds both have (pairs matched by key, e.g. seed):
 * a CI that straddles 0 means the difference is inside seed noise.
 */
export function pairedDiff(candidate: Map<string | number, number>, baseline: Map<string | number, number>): Interval & { keys: Array<string | number> } {
  const keys = [...candidate.keys()].filter((k) => baseline.has(k) && Number.isFinite(candidate.get(k)!) && Number.isFinite(baseline.get(k)!));
  return { ...meanCI(keys.map((k) => candidate.get(k)! - baseline.get(k)!)), keys };
}

/** CI excludes 0: the difference is larger than seed noise at 95 %. */
export const significant = (i: Interval): boolean => Number.isFinite(i.lo) && (i.lo > 0 || i.hi < 0);
