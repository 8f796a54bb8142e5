// A grid of coloured cells painted as ONE image over an ECharts grid (EChart.vue's `cells` prop): one
// putImageData per update instead of ~1,500 zrender rectangles (the live layer × expert heatmap at 20
// frames/s), with its own hover tooltip and click hit-testing, and the data tests read published lazily.
import type { ChartSnapshot } from './registry';

export interface CellLayer {
  cols: number;
  rows: number;
  /** RGBA bytes, row-major, row 0 drawn at the top of the grid */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  /** changes whenever the data does (a hash of the inputs the series are computed from) */
  digest: string;
  /** what the chart shows, as plain numbers, for window.__loadscopeCharts (built on first read) */
  series: () => ChartSnapshot['series'];
  /** tooltip HTML of one cell */
  tooltip: (col: number, row: number) => string;
  /** the item emitted with `cell-click` (a heatmap item value: [x, y, ...]) */
  item: (col: number, row: number) => number[];
}

/** Pixel rectangle of the cartesian grid, from the option's grid (fixed pixel margins, containLabel off). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function gridRect(grid: unknown, width: number, height: number): Rect {
  const g = (Array.isArray(grid) ? grid[0] : grid) as { left?: number; right?: number; top?: number; bottom?: number } | undefined;
  const left = g?.left ?? 80;
  const right = g?.right ?? 80;
  const top = g?.top ?? 60;
  const bottom = g?.bottom ?? 60;
  return { x: left, y: top, width: Math.max(0, width - left - right), height: Math.max(0, height - top - bottom) };
}

/** Where the cells lie in the chart's pixels: the first cell's top-left corner and one cell's size. */
export interface Placement {
  left: number;
  top: number;
  cellW: number;
  cellH: number;
}

type ToPixel = (finder: { xAxisIndex: number } | { yAxisIndex: number }, value: number) => number;

/**
 * Place the cells on the category axes as ECharts has laid them out now (zoomed with dataZoom, too):
 * category i is centred on toPixel(i); rows go top-down (the y axes are inverse).
 */
export function placeCells(toPixel: ToPixel, cells: CellLayer, rect: Rect): Placement {
  const x0 = toPixel({ xAxisIndex: 0 }, 0);
  const y0 = toPixel({ yAxisIndex: 0 }, 0);
  const cellW = cells.cols > 1 ? (toPixel({ xAxisIndex: 0 }, cells.cols - 1) - x0) / (cells.cols - 1) : rect.width;
  const cellH = cells.rows > 1 ? (toPixel({ yAxisIndex: 0 }, cells.rows - 1) - y0) / (cells.rows - 1) : rect.height;
  if (!Number.isFinite(x0 + y0 + cellW + cellH)) return { left: rect.x, top: rect.y, cellW: rect.width / cells.cols, cellH: rect.height / cells.rows };
  return { left: x0 - cellW / 2, top: y0 - cellH / 2, cellW, cellH };
}

/** Paint the cells into `canvas` (one pixel per cell; CSS scales it without smoothing). */
export function paintCells(canvas: HTMLCanvasElement, cells: CellLayer): void {
  if (canvas.width !== cells.cols) canvas.width = cells.cols;
  if (canvas.height !== cells.rows) canvas.height = cells.rows;
  const ctx = canvas.getContext('2d');
  if (cells.cols && cells.rows) ctx?.putImageData(new ImageData(cells.rgba, cells.cols, cells.rows), 0, 0);
}

/** Size and move the canvas to its placement, inside `clip` (a box over the grid that hides zoomed-out cells). */
export function positionCells(clip: HTMLElement, canvas: HTMLCanvasElement, cells: CellLayer, rect: Rect, at: Placement): void {
  Object.assign(clip.style, { left: `${rect.x}px`, top: `${rect.y}px`, width: `${rect.width}px`, height: `${rect.height}px` });
  Object.assign(canvas.style, { left: `${at.left - rect.x}px`, top: `${at.top - rect.y}px`, width: `${at.cellW * cells.cols}px`, height: `${at.cellH * cells.rows}px` });
}

/** The cell under a point given in the chart's pixels, or null outside the grid. */
export function cellAt(cells: CellLayer, rect: Rect, at: Placement, x: number, y: number): { col: number; row: number } | null {
  if (x < rect.x || y < rect.y || x >= rect.x + rect.width || y >= rect.y + rect.height) return null;
  const col = Math.floor((x - at.left) / at.cellW);
  const row = Math.floor((y - at.top) / at.cellH);
  return col >= 0 && col < cells.cols && row >= 0 && row < cells.rows ? { col, row } : null;
}

/** A copy of an ECharts canvas with the cells drawn in (PNG export); `ratio` = its pixel ratio. */
export function withCells(base: HTMLCanvasElement, cellCanvas: HTMLCanvasElement, cells: CellLayer, rect: Rect, at: Placement, ratio: number): HTMLCanvasElement {
  const out = document.createElement('canvas');
  out.width = base.width;
  out.height = base.height;
  const ctx = out.getContext('2d')!;
  ctx.drawImage(base, 0, 0);
  ctx.beginPath();
  ctx.rect(rect.x * ratio, rect.y * ratio, rect.width * ratio, rect.height * ratio);
  ctx.clip();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cellCanvas, at.left * ratio, at.top * ratio, at.cellW * cells.cols * ratio, at.cellH * cells.rows * ratio);
  return out;
}
