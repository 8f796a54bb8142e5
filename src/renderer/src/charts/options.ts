// Option builders for every chart (pure functions of plain numbers, so views stay small and tests can
// read the same numbers back from window.__loadscopeCharts).
import type { Heatmap } from '../../../shared/ipc-contract';
import { divergingStops, PALETTE } from './colors';
import type { ChartOption } from './echarts';
import { num } from '../lib/format';

const BASE = { animation: false, backgroundColor: 'transparent' } as const;

/** Ideal load of each layer: the given k·T/N, or the layer's mean load when unknown (Σ load = k·T). */
function idealOf(loadsLE: number[], layers: number, experts: number, idealLoad: number): number[] {
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

export interface LayerExpertInput {
  loadsLE: number[];
  layers: number;
  experts: number;
  idealLoad: number;
  step: number;
  /** upper end of the colour scale (see scaleMax) */
  scaleMax: number;
  dark: boolean;
}

/** Layer × expert heatmap of one step. Item: [expert, layer, ratio clamped for colour, load, ratio]. */
export function layerExpertOption(p: LayerExpertInput): ChartOption {
  const ideal = idealOf(p.loadsLE, p.layers, p.experts, p.idealLoad);
  const data: number[][] = [];
  for (let l = 0; l < p.layers; l++) {
    for (let e = 0; e < p.experts; e++) {
      const load = p.loadsLE[l * p.experts + e]!;
      const ratio = load / ideal[l]!;
      data.push([e, l, Math.min(ratio, p.scaleMax), load, +ratio.toFixed(4)]);
    }
  }
  return {
    ...BASE,
    grid: { left: 48, right: 84, top: 12, bottom: 36 },
    tooltip: {
      formatter: (params: unknown) => {
        const v = (params as { value: number[] }).value;
        return `step ${p.step} · layer ${v[1]} · expert ${v[0]}<br/>load <b>${v[3]}</b> tokens (${num(v[4], 2)} × ideal ${num(ideal[v[1]!], 1)})`;
      },
    },
    xAxis: { type: 'category', name: 'expert', nameLocation: 'middle', nameGap: 22, data: range(p.experts).map(String), splitArea: { show: false } },
    yAxis: { type: 'category', name: 'layer', nameLocation: 'middle', nameGap: 30, data: range(p.layers).map(String), inverse: true },
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: 0,
      max: p.scaleMax,
      calculable: false,
      orient: 'vertical',
      right: 4,
      top: 'middle',
      itemHeight: 140,
      text: [`${num(p.scaleMax, 1)}× over`, '0 under'],
      inRange: { color: divergingStops(p.scaleMax, p.dark) },
      formatter: (v: unknown) => `${num(Number(v), 2)}×`,
    },
    series: [{ name: 'load ÷ ideal', type: 'heatmap', data, progressive: 0, emphasis: { disabled: true } }],
  };
}

export interface ExpertStepInput {
  heatmap: Heatmap;
  scaleMax: number;
  dark: boolean;
  /** colour by the bucket mean (default) or max load */
  stat: 'mean' | 'max';
}

/** Largest bucket load ÷ ideal of a heatmap, for its colour scale. */
export function heatmapMaxRatio(h: Heatmap, stat: 'mean' | 'max'): number {
  const vals = stat === 'mean' ? h.mean : h.max;
  return h.idealLoad > 0 && vals.length ? Math.max(...vals) / h.idealLoad : 0;
}

/** Expert × step heatmap of one layer. Item: [column, expert, ratio clamped, mean load, max load, ratio]. */
export function expertStepOption(p: ExpertStepInput): ChartOption {
  const h = p.heatmap;
  const cols = h.stepStarts.length;
  const ideal = h.idealLoad > 0 ? h.idealLoad : 1;
  const data: number[][] = [];
  for (let e = 0; e < h.experts; e++) {
    for (let c = 0; c < cols; c++) {
      const mean = h.mean[e * cols + c]!;
      const max = h.max[e * cols + c]!;
      const ratio = (p.stat === 'mean' ? mean : max) / ideal;
      data.push([c, e, Math.min(ratio, p.scaleMax), +mean.toFixed(3), max, +ratio.toFixed(4)]);
    }
  }
  const label = (c: number) => (h.stepStarts[c] === h.stepEnds[c] ? `${h.stepStarts[c]}` : `${h.stepStarts[c]}–${h.stepEnds[c]}`);
  return {
    ...BASE,
    grid: { left: 48, right: 84, top: 12, bottom: 64 },
    tooltip: {
      formatter: (params: unknown) => {
        const v = (params as { value: number[] }).value;
        return `steps ${label(v[0]!)} · expert ${v[1]}<br/>mean load <b>${num(v[3], 1)}</b>, max ${v[4]} (${num(v[5], 2)} × ideal ${num(ideal, 1)})`;
      },
    },
    xAxis: { type: 'category', name: 'step', nameLocation: 'middle', nameGap: 22, data: range(cols).map(label) },
    yAxis: { type: 'category', name: 'expert', nameLocation: 'middle', nameGap: 30, data: range(h.experts).map(String), inverse: true },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, start: 0, end: 100, filterMode: 'none' },
      { type: 'slider', xAxisIndex: 0, start: 0, end: 100, height: 14, bottom: 6, filterMode: 'none', showDetail: false },
    ],
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: 0,
      max: p.scaleMax,
      orient: 'vertical',
      right: 4,
      top: 'middle',
      itemHeight: 140,
      text: [`${num(p.scaleMax, 1)}× over`, '0 under'],
      inRange: { color: divergingStops(p.scaleMax, p.dark) },
      formatter: (v: unknown) => `${num(Number(v), 2)}×`,
    },
    series: [{ name: `layer ${h.layer} load ÷ ideal`, type: 'heatmap', data, progressive: 0, emphasis: { disabled: true } }],
  };
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
}

/** Curves over steps: loss, perplexity, MaxVio, expert share. */
export function linesOption(p: LinesInput): ChartOption {
  const series = p.lines.map((l, i) => ({
    name: l.name,
    type: 'line' as const,
    data: l.data,
    showSymbol: !!l.symbols,
    symbolSize: 5,
    sampling: l.symbols ? undefined : ('lttb' as const),
    lineStyle: { width: 1.5, type: l.dashed ? ('dashed' as const) : ('solid' as const) },
    color: l.color ?? PALETTE[i % PALETTE.length],
    markLine:
      i === 0 && p.reference
        ? { silent: true, symbol: 'none', data: [{ yAxis: p.reference.value, name: p.reference.label }], label: { formatter: p.reference.label }, lineStyle: { type: 'dotted' as const } }
        : undefined,
  }));
  return {
    ...BASE,
    grid: { left: 64, right: p.reference ? 80 : 20, top: 40, bottom: 32 },
    legend: { top: 4, type: 'scroll', textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => num(Number(v), 4) },
    xAxis: { type: 'value', name: p.xName ?? 'step', nameLocation: 'middle', nameGap: 20, min: 'dataMin', max: 'dataMax' },
    yAxis: { type: p.logY ? 'log' : 'value', name: p.yName, nameLocation: 'middle', nameGap: 46, scale: true },
    series,
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
