// Hand-worked checks of the run view's curve tools (x by tokens / training time, smoothing only of dense
// lines, log y dropping points ≤ 0) and of the runs list's numeric range filter.
import { describe, expect, it } from 'vitest';
import { runCurvesOption, xOfStep, type RunAxis } from '../../../src/renderer/src/charts/run-curves';
import { filterRuns, inRange, numericKeys, type RunsFilter } from '../../../src/renderer/src/lib/runs-table';
import type { RunListItem } from '../../../src/shared/ipc-contract';
import type { RunFacets } from '../../../src/shared/run-facets';

const axis = (kind: RunAxis['kind']): RunAxis => ({ kind, tokensPerStep: 256, steps: [1, 2, 4], elapsedMs: [500, 1500, 4000] });
type S = { name: string; data: Array<[number, number]> };
const seriesOf = (o: ReturnType<typeof runCurvesOption>) => o.series as unknown as S[];

describe('run curves', () => {
  it('maps steps to tokens and to cumulative training seconds (an eval between points takes the last point)', () => {
    expect(xOfStep(axis('step'), 3)).toBe(3);
    expect(xOfStep(axis('tokens'), 3)).toBe(768);
    expect(xOfStep(axis('time'), 2)).toBe(1.5);
    expect(xOfStep(axis('time'), 3)).toBe(1.5);
    expect(xOfStep(axis('time'), 4)).toBe(4);
    expect(xOfStep(axis('time'), 0)).toBe(0);
  });

  it('smooths the dense lines (debiased EMA) and leaves the eval points alone', () => {
    const o = runCurvesOption({
      yName: 'loss', axis: axis('step'), smoothing: 0.5, logY: false,
      lines: [{ name: 'train', data: [[1, 4], [2, 2], [4, 0]] }, { name: 'val', data: [[2, 3], [4, 1]], symbols: true }],
    });
    const [train, val] = seriesOf(o);
    // m1 = 2 → 2/(1−.5) = 4; m2 = 1 + 1 = 2 → 2/.75 = 2.6667; m3 = 1 + 0 = 1 → 1/.875 = 1.142857
    expect(train!.data.map((p) => p[1])).toEqual([4, expect.closeTo(2.666667, 5), expect.closeTo(1.142857, 5)]);
    expect(val!.data).toEqual([[2, 3], [4, 1]]);
    expect(o.dataZoom).toHaveLength(2);
  });

  it('on a log axis drops points ≤ 0, on the tokens axis multiplies the step', () => {
    const o = runCurvesOption({ yName: 'drop', axis: axis('tokens'), smoothing: 0, logY: true, lines: [{ name: 'd', data: [[1, 0], [2, 0.5], [4, 2]] }] });
    expect(seriesOf(o)[0]!.data).toEqual([[512, 0.5], [1024, 2]]);
    expect((o.yAxis as { type: string }).type).toBe('log');
  });
});

describe('runs list range filter', () => {
  const facet = (runId: string, T: number | string | undefined): RunFacets => ({ runId, notes: '', sweep: null, parent: null, params: T === undefined ? { seed: 1 } : { 'option.T': T, seed: 1 } });
  const item = (runId: string) => ({ runId, name: runId, status: 'completed', strategy: 'bip', preset: 'tiny', tags: [] }) as unknown as RunListItem;
  const facets = new Map([['a', facet('a', 1)], ['b', facet('b', 2)], ['c', facet('c', 8)], ['d', facet('d', 9)], ['e', facet('e', undefined)], ['f', facet('f', 'x')]]);
  const items = ['a', 'b', 'c', 'd', 'e', 'f'].map(item);
  const f = (min: number | '', max: number | ''): RunsFilter => ({ text: '', strategy: '', status: '', tag: '', sweep: '', rangeKey: 'option.T', rangeMin: min, rangeMax: max });

  it('keeps T between 2 and 8 (bounds included); a run without a numeric T is out', () => {
    expect(filterRuns(items, facets, f(2, 8)).map((r) => r.runId)).toEqual(['b', 'c']);
    expect(filterRuns(items, facets, f(8, '')).map((r) => r.runId)).toEqual(['c', 'd']);
    expect(filterRuns(items, facets, f('', 1)).map((r) => r.runId)).toEqual(['a']);
  });
  it('no bounds or no key filters nothing', () => {
    expect(filterRuns(items, facets, f('', '')).map((r) => r.runId)).toHaveLength(6);
    expect(inRange(undefined, { ...f(2, 8), rangeKey: '' })).toBe(true);
  });
  it('offers only keys with a numeric value', () => {
    expect(numericKeys(facets)).toEqual(['option.T', 'seed']);
  });
});
