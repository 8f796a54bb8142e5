// Chart export with a title and the whole legend: SVG through ECharts' SVG renderer (server-side mode, no
// DOM needed), PNG through an offscreen canvas instance of the same option; zoom state is kept.
import { SVGRenderer } from 'echarts/renderers';
import { echarts, type ChartOption } from './echarts';

echarts.use([SVGRenderer]);

/** The option as exported: title on top, plain wrapped legend (never paged), no slider, the given zoom. */
export function exportOption(option: ChartOption, title: string, zoom: { start: number; end: number } | null): ChartOption {
  const legend = Array.isArray(option.legend) ? option.legend[0] : option.legend;
  const grid = (Array.isArray(option.grid) ? option.grid[0] : option.grid) ?? {};
  const top = typeof grid.top === 'number' ? grid.top : 40;
  return {
    ...option,
    title: { text: title, left: 8, top: 6, textStyle: { fontSize: 14, fontWeight: 'bold' } },
    legend: { ...(legend ?? {}), type: 'plain', top: 30, left: 8, right: 8 },
    grid: { ...grid, top: top + 26, bottom: 40 },
    dataZoom: zoom ? [{ type: 'inside', xAxisIndex: 0, start: zoom.start, end: zoom.end, filterMode: 'none' }] : [],
  };
}

export function chartSvg(option: ChartOption, title: string, zoom: { start: number; end: number } | null, width: number, height: number, dark: boolean): string {
  const c = echarts.init(null, dark ? 'dark' : undefined, { renderer: 'svg', ssr: true, width, height });
  try {
    c.setOption({ ...exportOption(option, title, zoom), backgroundColor: dark ? '#1e1e22' : '#ffffff' });
    return c.renderToSVGString();
  } finally {
    c.dispose();
  }
}

export function chartPng(option: ChartOption, title: string, zoom: { start: number; end: number } | null, width: number, height: number, dark: boolean): string {
  const div = document.createElement('div');
  div.style.cssText = `position:fixed;left:-10000px;top:0;width:${width}px;height:${height}px`;
  document.body.appendChild(div);
  const c = echarts.init(div, dark ? 'dark' : undefined, { renderer: 'canvas', width, height });
  try {
    c.setOption(exportOption(option, title, zoom));
    return c.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: dark ? '#1e1e22' : '#ffffff' });
  } finally {
    c.dispose();
    div.remove();
  }
}
