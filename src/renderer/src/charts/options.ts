// Option builders for every chart (pure functions of plain numbers, so views stay small and tests can
// read the same numbers back from window.__loadscopeCharts).
import { PALETTE } from './colors';
import type { ChartOption } from './echarts';
import { num } from '../lib/format';
import { legendRows } from './curve-options';

const BASE = { animation: false, backgroundColor: 'transparent' } as const;

/** Ideal load of each layer: the given k·T/N, or the layer's mean load when unknown (Σ load = k·T). */
export function idealOf(loadsLE: number[], layers: number, experts: number, idealLoad: number): number[] {
  return Array.from({ length: layers }, (_, l) => {
    if (idealLoad > 0) return idealLoad;
    let s = 0;
    for (let e = 0; e < experts; e++) s += loadsLE[l * experts + e]!;
    return s / experts || 1;
  });
}

/** Largest load ÷ ideal in a layer-major loads array (for the shared colour scale). */
export function maxRatio(loadsLE: number[], layers: number, experts: number, idealLoad: number): number {
  const ideal = idealOf(loadsLE, layers, experts, idealLoad);
  let m = 0;
  for (let l = 0; l < layers; l++) for (let e = 0; e < experts; e++) m = Math.max(m, loadsLE[l * experts + e]! / ideal[l]!);
  return m;
}

export interface Line {
  name: string;
  data: Array<[number, number]>;
  color?: string;
  dashed?: boolean;
  /** draw points (sparse series such as validation) */
  symbols?: boolean;
}

export interface LinesInput {
  lines: Line[];
  yName: string;
  logY?: boolean;
  /** a horizontal reference (e.g. ideal share) */
  reference?: { value: number; label: string };
  xName?: string;
  /** chart width in px (how many legend rows) */
  width?: number;
}

/** Curves over steps: loss, perplexity, MaxVio, expert share. */
export function linesOption(p: LinesInput): ChartOption {
  const series = p.lines.map((l, i) => ({
    name: l.name,
    type: 'line' as const,
    data: l.data,
    // a line of one point draws nothing: show the point itself (the first step of a run)
    showSymbol: !!l.symbols || l.data.length === 1,
    symbolSize: 5,
    sampling: l.symbols ? undefined : ('lttb' as const),
    lineStyle: { width: 1.5, type: l.dashed ? ('dashed' as const) : ('solid' as const) },
    color: l.color ?? PALETTE[i % PALETTE.length],
    markLine:
      i === 0 && p.reference
        ? { silent: true, symbol: 'none', data: [{ yAxis: p.reference.value, name: p.reference.label }], label: { formatter: p.reference.label }, lineStyle: { type: 'dotted' as const } }
        : undefined,
  }));
  // a plain legend wraps onto more rows (never pages "1/7"); the grid starts below it
  const rows = legendRows(p.lines.map((l) => l.name), p.width ?? 420);
  return {
    ...BASE,
    grid: { left: 64, right: p.reference ? 80 : 20, top: 20 + rows * 20, bottom: 32 },
    legend: { top: 4, left: 8, right: 8, type: 'plain', textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => num(Number(v), 4) },
    xAxis: { type: 'value', name: p.xName ?? 'step', nameLocation: 'middle', nameGap: 20, min: 'dataMin', max: 'dataMax' },
    yAxis: { type: p.logY ? 'log' : 'value', name: p.yName, nameLocation: 'middle', nameGap: 46, scale: true },
    series,
  };
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
