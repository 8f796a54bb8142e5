// Option of a curves chart with grouped mean ± sd bands, a legend that wraps instead of paging, inside and
// slider zoom (shared through an ECharts group), linear or log y and a hover readout of every series.
import type { ChartOption } from './echarts';
import type { Band, XAxisKind } from './grouped';
import { num } from '../lib/format';

export const X_NAMES: Record<XAxisKind, string> = { step: 'step', tokens: 'tokens', time: 'training time (s)' };

/** rows a wrapping legend needs at `width` px (≈ 7 px a character + the symbol and gap) */
export function legendRows(names: string[], width: number): number {
  let rows = 1;
  let x = 0;
  for (const n of names) {
    const w = 38 + n.length * 7;
    if (x + w > width - 20 && x > 0) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows;
}

export interface BandsInput {
  title?: string;
  yName: string;
  bands: Band[];
  colorOf: (group: string) => string;
  xKind: XAxisKind;
  logY: boolean;
  /** chart width in px, to place the grid below the wrapped legend */
  width: number;
  /** draw the ± sd band (groups of one run draw only the line) */
  showBand?: boolean;
}

/**
 * Each group is a mean line plus, when it has more than one run, a band: a transparent "lower" line and a
 * stacked "upper − lower" area on top of it (ECharts has no band series).
 */
export function bandsOption(p: BandsInput): ChartOption {
  const series: NonNullable<ChartOption['series']> = [];
  const names = p.bands.map((b) => (b.runs > 1 ? `${b.group} (n=${b.runs})` : b.group));
  p.bands.forEach((b, i) => {
    const color = p.colorOf(b.group);
    if (p.showBand !== false && b.runs > 1) {
      const stack = `band-${i}`;
      series.push({ name: `${names[i]} −sd`, type: 'line', stack, data: b.points.map((q) => [q.x, q.lo]), symbol: 'none', lineStyle: { opacity: 0 }, tooltip: { show: false }, silent: true, color });
      series.push({ name: `${names[i]} band`, type: 'line', stack, data: b.points.map((q) => [q.x, q.hi - q.lo]), symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color, opacity: 0.2 }, tooltip: { show: false }, silent: true, color });
    }
    series.push({ name: names[i]!, type: 'line', data: b.points.map((q) => [q.x, q.mean]), showSymbol: b.points.length === 1, symbolSize: 5, lineStyle: { width: 1.6 }, color });
  });
  const rows = legendRows(names, p.width);
  const top = (p.title ? 26 : 6) + rows * 20 + 14;
  return {
    animation: false,
    backgroundColor: 'transparent',
    ...(p.title ? { title: { text: p.title, left: 8, top: 4, textStyle: { fontSize: 13 } } } : {}),
    // plain legend wraps onto more rows; band helper series stay out of it
    legend: { type: 'plain', top: p.title ? 26 : 4, left: 8, right: 8, data: names, textStyle: { fontSize: 11 } },
    grid: { left: 64, right: 24, top, bottom: 64 },
    tooltip: {
      trigger: 'axis',
      // ECharts positions and styles the tooltip with inline styles (allowed for style attributes by the CSP)
      formatter: (params: unknown) => {
        const ps = (Array.isArray(params) ? params : [params]) as Array<{ seriesName: string; value: [number, number]; color: string }>;
        const shown = ps.filter((q) => names.includes(q.seriesName));
        if (!shown.length) return '';
        const head = `<div style="font-weight:600">${X_NAMES[p.xKind]} ${num(shown[0]!.value[0], 4)}</div>`;
        return head + shown.map((q) => `<div><span style="display:inline-block;width:8px;height:8px;border-radius:4px;background:${q.color};margin-right:4px"></span>${escapeHtml(q.seriesName)}: ${num(q.value[1], 4)}</div>`).join('');
      },
    },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 16, bottom: 8 },
    ],
    xAxis: { type: 'value', name: X_NAMES[p.xKind], nameLocation: 'middle', nameGap: 22, min: 'dataMin', max: 'dataMax' },
    yAxis: { type: p.logY ? 'log' : 'value', name: p.yName, nameLocation: 'middle', nameGap: 46, scale: true },
    series,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
