// One run's curves with the tools of the grouped curves: debiased-EMA smoothing, x by step / tokens / training
// time, linear or log y, zoom (dataZoom, shared through CurveCard's group) and a hover readout of every series.
import type { ChartOption } from './echarts';
import { linesOption, type Line } from './options';
import { X_NAMES } from './curve-options';
import type { XAxisKind } from './grouped';
import { smoothPairs } from './smoothing';
import { num } from '../lib/format';

export interface RunAxis {
  kind: XAxisKind;
  /** tokens of one training step (batch × ctx) */
  tokensPerStep: number;
  /** steps and cumulative training ms of the run's points (for the time axis) */
  steps: number[];
  elapsedMs: number[];
}

/** x of a step on the chosen axis; a step between recorded points (an eval) takes the last point's time */
export function xOfStep(axis: RunAxis, step: number): number {
  if (axis.kind === 'step') return step;
  if (axis.kind === 'tokens') return step * axis.tokensPerStep;
  const s = axis.steps;
  let lo = 0;
  let hi = s.length - 1;
  if (hi < 0 || step < s[0]!) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid]! <= step) lo = mid;
    else hi = mid - 1;
  }
  const ms = axis.elapsedMs[lo];
  return Number.isFinite(ms) ? ms! / 1000 : 0;
}

export interface RunCurvesInput {
  yName: string;
  lines: Line[];
  axis: RunAxis;
  smoothing: number;
  logY: boolean;
  width?: number;
}

/**
 * Dense (per-step) lines are smoothed; sparse ones (evals, drawn with symbols) are not: a few points smoothed
 * would lag by whole evaluation intervals. On a log axis points ≤ 0 are left out (log 0 has no place).
 */
export function runCurvesOption(p: RunCurvesInput): ChartOption {
  const lines = p.lines.map((l) => {
    let data = l.symbols ? l.data : smoothPairs(l.data, p.smoothing);
    data = data.map(([s, y]) => [xOfStep(p.axis, s), y] as [number, number]);
    if (p.logY) data = data.filter(([, y]) => y > 0);
    return { ...l, data };
  });
  const base = linesOption({ yName: p.yName, lines, logY: p.logY, xName: X_NAMES[p.axis.kind], width: p.width });
  const names = lines.map((l) => l.name);
  return {
    ...base,
    grid: { ...(base.grid as object), bottom: 60 },
    xAxis: { ...(base.xAxis as object), nameGap: 22 },
    tooltip: {
      trigger: 'axis',
      // every series at the hovered x: ECharts gives each series' nearest point; a sparse series reads "–" far away
      formatter: (params: unknown) => {
        const ps = (Array.isArray(params) ? params : [params]) as Array<{ seriesName: string; value: [number, number]; color: string }>;
        if (!ps.length) return '';
        const x = ps[0]!.value[0];
        const head = `<div style="font-weight:600">${X_NAMES[p.axis.kind]} ${num(x, 4)}</div>`;
        return head + names.map((n) => {
          const q = ps.find((v) => v.seriesName === n);
          const dot = `<span style="display:inline-block;width:8px;height:8px;border-radius:4px;background:${q?.color ?? 'transparent'};margin-right:4px"></span>`;
          return `<div>${dot}${escapeHtml(n)}: ${q ? num(q.value[1], 4) : '–'}</div>`;
        }).join('');
      },
    },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 14, bottom: 6 },
    ],
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
