// Display of the balance figures that rank runs: drop rate as a percentage, the "drops tokens" flag, step-time sums.
import type { RunDetail, RunListItem } from '../../../shared/ipc-contract';
import { duration } from './format';

export const DROPS_TITLE = 'this run drops tokens (capacity): its routed MaxVio leaves the dropped slots out; compare the demanded MaxVio and the drop rate';

export function percentText(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(digits)} %`;
}

/** A run whose mean drop rate is above zero (any dropped slot at all). */
export function dropsTokens(r: Pick<RunListItem, 'dropRate'> | (Pick<RunDetail, 'dropRate' | 'summary'>) | null | undefined): boolean {
  if (!r) return false;
  const rate = ('summary' in r ? r.summary?.dropRate : undefined) ?? r.dropRate;
  return typeof rate === 'number' && rate > 0;
}

/** Training time: tenths of a second below a minute (a short run's step times must be readable). */
export function trainTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : duration(ms);
}
