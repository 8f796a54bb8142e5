// Exposes each chart's DATA to tests and tools: window.__loadscopeCharts[testid] holds plain numbers
// (series name → data) and the element gets data-option-digest, a hash that changes when the data does.
import type { ChartOption } from './echarts';

export interface ChartSnapshot {
  /** how many times setOption ran */
  updates: number;
  digest: string;
  /** series in option order: name and data (numbers, or arrays of numbers) */
  series: Array<{ name: string; type: string; data: unknown[] }>;
  /** the colour scale of heatmaps */
  visualMap: { min: number; max: number } | null;
  /** category axis labels (x then y), e.g. experts and layers */
  xLabels: string[];
  yLabels: string[];
}

declare global {
  interface Window {
    __loadscopeCharts?: Record<string, ChartSnapshot>;
    /** set by bench/ui.ts: every chart update's duration */
    __loadscopeProfile?: { push(entry: { testid: string; at: number; ms: number }): unknown };
  }
}

/**
 * A hash of every number (and string) in nested arrays: changes when the data does, and costs one pass
 * without building a JSON string (curves hold ~16,000 numbers, updated up to 20 times a second).
 */
export function digestOf(value: unknown): string {
  let h = 0x811c9dc5;
  const mixIn = (x: number) => {
    h ^= x | 0;
    h = Math.imul(h, 0x01000193);
  };
  const walk = (v: unknown): void => {
    if (typeof v === 'number') {
      // fold the fraction in too, so 0.25 and 0.5 differ
      mixIn(v);
      mixIn(Math.round((v % 1) * 1e6));
    } else if (typeof v === 'string') {
      for (let i = 0; i < v.length; i++) mixIn(v.charCodeAt(i));
    } else if (Array.isArray(v)) {
      mixIn(v.length);
      for (const x of v) walk(x);
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(value);
  return (h >>> 0).toString(16).padStart(8, '0');
}

function plainData(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [];
  // heatmap items may be {value: [...]} objects; keep only the numbers
  return data.map((d) => (d && typeof d === 'object' && !Array.isArray(d) && 'value' in d ? (d as { value: unknown }).value : d));
}

function labels(axis: unknown): string[] {
  const a = Array.isArray(axis) ? axis[0] : axis;
  const data = (a as { data?: unknown[] } | undefined)?.data;
  return Array.isArray(data) ? data.map(String) : [];
}

export function snapshotOf(option: ChartOption, updates: number): ChartSnapshot {
  const rawSeries = Array.isArray(option.series) ? option.series : option.series ? [option.series] : [];
  const series = rawSeries.map((s, i) => ({ name: String(s.name ?? `series${i}`), type: String(s.type ?? ''), data: plainData(s.data) }));
  const vm = Array.isArray(option.visualMap) ? option.visualMap[0] : option.visualMap;
  const visualMap = vm && typeof vm.min === 'number' && typeof vm.max === 'number' ? { min: vm.min, max: vm.max } : null;
  const snap = { series, visualMap, xLabels: labels(option.xAxis), yLabels: labels(option.yAxis) };
  return { updates, digest: digestOf(snap.series), ...snap };
}

export function publish(testid: string, snap: ChartSnapshot): void {
  (window.__loadscopeCharts ??= {})[testid] = snap;
}

export function unpublish(testid: string): void {
  if (window.__loadscopeCharts) delete window.__loadscopeCharts[testid];
}
