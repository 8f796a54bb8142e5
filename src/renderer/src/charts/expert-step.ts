// The expert × step heatmap of one layer: an ECharts option with the axes, zoom and colour scale plus a
// CellLayer of the (binned) loads painted as one image, which dataZoom moves with the axis. Item (published
// for tests): [column, expert, ratio clamped for colour, mean load, max load, load ÷ ideal].
import type { Heatmap } from '../../../shared/ipc-contract';
import { ratioRgb, ratioVisualMap } from './colors';
import type { CellLayer } from './cell-layer';
import type { ChartOption } from './echarts';
import { range } from './options';
import { digestOf } from './registry';
import { num } from '../lib/format';

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
  let m = 0;
  for (const v of vals) if (v > m) m = v;
  return h.idealLoad > 0 && vals.length ? m / h.idealLoad : 0;
}

const columnLabel = (h: Heatmap, c: number) => (h.stepStarts[c] === h.stepEnds[c] ? `${h.stepStarts[c]}` : `${h.stepStarts[c]}–${h.stepEnds[c]}`);

/** Axes (one category per column, labelled with its step range), zoom and colour scale. */
export function expertStepAxesOption(p: ExpertStepInput): ChartOption {
  const h = p.heatmap;
  return {
    animation: false,
    backgroundColor: 'transparent',
    grid: { left: 48, right: 84, top: 12, bottom: 64 },
    xAxis: { type: 'category', name: 'step', nameLocation: 'middle', nameGap: 22, data: range(h.stepStarts.length).map((c) => columnLabel(h, c)) },
    yAxis: { type: 'category', name: 'expert', nameLocation: 'middle', nameGap: 30, data: range(h.experts).map(String), inverse: true },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, start: 0, end: 100, filterMode: 'none' },
      { type: 'slider', xAxisIndex: 0, start: 0, end: 100, height: 14, bottom: 6, filterMode: 'none', showDetail: false },
    ],
    visualMap: ratioVisualMap(p.scaleMax, p.dark),
    series: [],
  };
}

/** The columns as cells (rows = experts), coloured by the chosen statistic ÷ ideal. */
export function expertStepCells(p: ExpertStepInput): CellLayer {
  const h = p.heatmap;
  const cols = h.stepStarts.length;
  const rows = h.experts;
  const ideal = h.idealLoad > 0 ? h.idealLoad : 1;
  const vals = p.stat === 'mean' ? h.mean : h.max;
  const rgba = new Uint8ClampedArray(cols * rows * 4);
  for (let i = 0; i < cols * rows; i++) {
    const [r, g, b] = ratioRgb(vals[i]! / ideal, p.scaleMax, p.dark);
    rgba[4 * i] = r;
    rgba[4 * i + 1] = g;
    rgba[4 * i + 2] = b;
    rgba[4 * i + 3] = 255;
  }
  const item = (c: number, e: number): number[] => {
    const mean = h.mean[e * cols + c]!;
    const max = h.max[e * cols + c]!;
    const ratio = (p.stat === 'mean' ? mean : max) / ideal;
    return [c, e, Math.min(ratio, p.scaleMax), +mean.toFixed(3), max, +ratio.toFixed(4)];
  };
  const data: number[][] = [];
  for (let e = 0; e < rows; e++) for (let c = 0; c < cols; c++) data.push(item(c, e));
  const series = [{ name: `layer ${h.layer} load ÷ ideal`, type: 'heatmap', data }];
  return {
    cols,
    rows,
    rgba,
    // the same hash of the series data as every other chart (registry.ts), so it changes exactly when they do
    digest: digestOf(series),
    series: () => series,
    item,
    tooltip: (c, e) => {
      const v = item(c, e);
      return `steps ${columnLabel(h, c)} · expert ${e}<br/>mean load <b>${num(v[3], 1)}</b>, max ${v[4]} (${num(v[5], 2)} × ideal ${num(ideal, 1)})`;
    },
  };
}
