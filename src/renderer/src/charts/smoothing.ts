// Curve smoothing as TensorBoard does it: an exponential moving average debiased for its zero start.

/**
 * Debiased EMA with weight w in [0, 1): s_t = m_t / (1 − w^n), m_t = w·m_{t−1} + (1 − w)·y_t, counting n
 * over finite values only (non-finite points stay as they are and do not advance the average).
 * w = 0 returns the values unchanged.
 */
export function smoothEma(values: number[], weight: number): number[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return values.slice();
  let m = 0;
  let n = 0;
  return values.map((y) => {
    if (!Number.isFinite(y)) return y;
    m = w * m + (1 - w) * y;
    n++;
    return m / (1 - w ** n);
  });
}

/** Smooth the y of [x, y] pairs. */
export function smoothPairs(points: Array<[number, number]>, weight: number): Array<[number, number]> {
  const ys = smoothEma(points.map((p) => p[1]), weight);
  return points.map((p, i) => [p[0], ys[i]!]);
}
