// Per-step scalar columns with a hard size bound: on overflow every other point is dropped and the spacing
// doubles, so a 100,000-step live run keeps ≤ maxPoints points while the curve still ends at the latest step.

export const SCALAR_COLUMNS = ['loss', 'maxVio', 'avgMaxVio', 'supMaxVio', 'tokensPerSec', 'dropRate', 'avgDropRate', 'demandMaxVio', 'demandAvgMaxVio', 'entropy', 'cv', 'idle', 'dead', 'elapsedMs', 'maxVioMicro'] as const;
export type ScalarColumn = (typeof SCALAR_COLUMNS)[number];
/** the balance columns are absent (NaN) for runs recorded before them */
export type ScalarPoint = { step: number } & Partial<Record<ScalarColumn, number | null>>;

export class BoundedSeries {
  steps: number[] = [];
  cols = Object.fromEntries(SCALAR_COLUMNS.map((c) => [c, [] as number[]])) as Record<ScalarColumn, number[]>;
  /** minimum step distance between kept interior points */
  private stride = 1;
  /** the last point is only there to show the latest step; the next append replaces it */
  private provisional = false;

  constructor(readonly maxPoints = 4000) {}

  get length(): number {
    return this.steps.length;
  }

  get lastStep(): number {
    return this.steps.length ? this.steps[this.steps.length - 1]! : -1;
  }

  clear(): void {
    this.steps = [];
    for (const c of SCALAR_COLUMNS) this.cols[c] = [];
    this.stride = 1;
    this.provisional = false;
  }

  /** Drop points at or after `step` (a run resumed from an earlier checkpoint). */
  truncateFrom(step: number): void {
    let n = this.steps.length;
    while (n > 0 && this.steps[n - 1]! >= step) n--;
    this.steps.length = n;
    for (const c of SCALAR_COLUMNS) this.cols[c].length = n;
    this.provisional = false;
  }

  append(p: ScalarPoint): void {
    if (p.step <= this.lastStep) this.truncateFrom(p.step);
    if (this.provisional) this.pop();
    this.steps.push(p.step);
    for (const c of SCALAR_COLUMNS) this.cols[c].push(p[c] ?? NaN);
    const n = this.steps.length;
    this.provisional = n >= 2 && p.step - this.steps[n - 2]! < this.stride;
    if (n > this.maxPoints) this.decimate();
  }

  private pop(): void {
    this.steps.pop();
    for (const c of SCALAR_COLUMNS) this.cols[c].pop();
    this.provisional = false;
  }

  private decimate(): void {
    const n = this.steps.length;
    const keep = (i: number) => i % 2 === 0 || i === n - 1;
    this.steps = this.steps.filter((_, i) => keep(i));
    for (const c of SCALAR_COLUMNS) this.cols[c] = this.cols[c].filter((_, i) => keep(i));
    this.stride *= 2;
    this.provisional = false;
  }

  /** [step, value] pairs for a line series */
  pairs(col: ScalarColumn, map?: (v: number) => number): Array<[number, number]> {
    const vs = this.cols[col];
    return this.steps.map((s, i) => [s, map ? map(vs[i]!) : vs[i]!]);
  }
}
