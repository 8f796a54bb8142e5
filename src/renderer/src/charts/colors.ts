// The diverging colour scale of load ÷ ideal load: blue below 1 (under-load), white-ish at 1, red above.
import { num } from '../lib/format';
// ECharts spaces inRange colours evenly over [min, max]; we sample our own piecewise-linear scale so the
// neutral colour sits exactly at 1 whatever the maximum is.

type RGB = [number, number, number];
const UNDER: RGB = [33, 102, 172];
const OVER: RGB = [178, 24, 43];
const MID_LIGHT: RGB = [247, 247, 247];
const MID_DARK: RGB = [60, 60, 66];

const mix = (a: RGB, b: RGB, t: number): RGB => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as RGB;
const hex = (c: RGB) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Colour of one ratio on the scale [0, max] (max ≥ 2): 0 → deep blue, 1 → neutral, max → deep red. */
export function ratioColor(ratio: number, max: number, dark = false): string {
  return hex(ratioRgb(ratio, max, dark));
}

/** ratioColor as [r, g, b] bytes (the canvas heatmap writes them straight into ImageData). */
export function ratioRgb(ratio: number, max: number, dark = false): RGB {
  const mid = dark ? MID_DARK : MID_LIGHT;
  if (!(ratio > 0)) return UNDER;
  if (ratio <= 1) return mix(UNDER, mid, ratio);
  return mix(mid, OVER, Math.min(1, (ratio - 1) / (max - 1)));
}

/** Evenly spaced stops over [0, max] for visualMap.inRange.color. */
export function divergingStops(max: number, dark = false, count = 25): string[] {
  return Array.from({ length: count }, (_, i) => ratioColor((i / (count - 1)) * max, max, dark));
}

/** Upper end of the colour scale: at least 2 (so 1 is in the middle for balanced runs), rounded up to 0.5. */
export function scaleMax(maxRatio: number): number {
  if (!Number.isFinite(maxRatio)) return 2;
  return Math.max(2, Math.ceil(maxRatio * 2) / 2);
}

/** Series colours that read on both themes. */
export const PALETTE = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1', '#76b7b2', '#edc948', '#9c755f'];

/** The colour bar of both heatmaps: load ÷ ideal from 0 to scaleMax on the diverging scale centred on 1. */
export function ratioVisualMap(scaleMax: number, dark: boolean) {
  return {
    type: 'continuous' as const,
    dimension: 2,
    min: 0,
    max: scaleMax,
    calculable: false,
    orient: 'vertical' as const,
    right: 4,
    top: 'middle' as const,
    itemHeight: 140,
    text: [`${num(scaleMax, 1)}× over`, '0 under'],
    inRange: { color: divergingStops(scaleMax, dark) },
    formatter: (v: unknown) => `${num(Number(v), 2)}×`,
  };
}
