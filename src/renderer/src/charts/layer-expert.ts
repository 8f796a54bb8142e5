// The layer × expert heatmap of one step: an ECharts option with the axes and colour scale only (rebuilt
// when the shape, scale or theme changes) plus a CellLayer of the loads (rebuilt every frame, painted as one
// image). Item (published for tests): [expert, layer, ratio clamped for colour, load, load ÷ ideal].
import { ratioRgb, ratioVisualMap } from './colors';
import type { CellLayer } from './cell-layer';
import type { ChartOption } from './echarts';
import { idealOf, range } from './options';
import { digestOf } from './registry';
import { num } from '../lib/format';

export interface LayerExpertAxes {
  layers: number;
  experts: number;
  /** upper end of the colour scale (see scaleMax) */
  scaleMax: number;
  dark: boolean;
}

export interface LayerExpertInput extends LayerExpertAxes {
  /** layer-major loads, layers × experts */
  loadsLE: number[];
  idealLoad: number;
  step: number;
}

/** Axes, grid and colour scale; the cells come from layerExpertCells. */
export function layerExpertAxesOption(p: LayerExpertAxes): ChartOption {
  return {
    animation: false,
    backgroundColor: 'transparent',
    grid: { left: 48, right: 84, top: 12, bottom: 36 },
    xAxis: { type: 'category', name: 'expert', nameLocation: 'middle', nameGap: 22, data: range(p.experts).map(String), splitArea: { show: false }, axisTick: { alignWithLabel: false } },
    yAxis: { type: 'category', name: 'layer', nameLocation: 'middle', nameGap: 30, data: range(p.layers).map(String), inverse: true },
    visualMap: ratioVisualMap(p.scaleMax, p.dark),
    series: [],
  };
}

/** The loads of one step as cells: colour = load ÷ ideal on the diverging scale, tooltip = the exact count. */
export function layerExpertCells(p: LayerExpertInput): CellLayer {
  const { layers, experts, loadsLE, scaleMax, dark } = p;
  const ideal = idealOf(loadsLE, layers, experts, p.idealLoad);
  const rgba = new Uint8ClampedArray(layers * experts * 4);
  for (let l = 0; l < layers; l++) {
    for (let e = 0; e < experts; e++) {
      const i = l * experts + e;
      const [r, g, b] = ratioRgb(loadsLE[i]! / ideal[l]!, scaleMax, dark);
      rgba[4 * i] = r;
      rgba[4 * i + 1] = g;
      rgba[4 * i + 2] = b;
      rgba[4 * i + 3] = 255;
    }
  }
  const item = (e: number, l: number): number[] => {
    const load = loadsLE[l * experts + e]!;
    const ratio = load / ideal[l]!;
    return [e, l, Math.min(ratio, scaleMax), load, +ratio.toFixed(4)];
  };
  const data: number[][] = [];
  for (let l = 0; l < layers; l++) for (let e = 0; e < experts; e++) data.push(item(e, l));
  const series = [{ name: 'load ÷ ideal', type: 'heatmap', data }];
  return {
    cols: experts,
    rows: layers,
    rgba,
    // the same hash of the series data as every other chart (registry.ts), so it changes exactly when they do
    digest: digestOf(series),
    series: () => series,
    item,
    tooltip: (e, l) => {
      const v = item(e, l);
      return `step ${p.step} · layer ${l} · expert ${e}<br/>load <b>${v[3]}</b> tokens (${num(v[4], 2)} × ideal ${num(ideal[l], 1)})`;
    },
  };
}
