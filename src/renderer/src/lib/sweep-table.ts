// The sweep view's tables as pure functions: rows sorted and filtered, grouped by swept values with mean
// and spread over seeds, and paired differences against a baseline configuration (same seeds, 95 % CI).
import type { SweepRow } from '../../../shared/sweep';
import { meanCI, pairedDiff, significant, type Interval } from '../../../shared/stats';

export const METRICS = [
  { key: 'valPerplexity', label: 'val perplexity' },
  { key: 'avgMaxVio', label: 'AvgMaxVio' },
  { key: 'supMaxVio', label: 'SupMaxVio' },
  { key: 'dropRate', label: 'drop rate' },
  { key: 'tokensPerSec', label: 'tokens/s' },
] as const;
export type MetricKey = (typeof METRICS)[number]['key'];

/** The swept option names of a sweep, in first-seen order. */
export function optionKeys(rows: SweepRow[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r.options)))];
}

/** Everything swept except the seed: the configuration a row's seeds repeat. */
export function configOf(r: SweepRow): string {
  return [r.strategy, ...Object.entries(r.options).map(([k, v]) => `${k}=${String(v)}`)].join(' ');
}

/** A row's value of a column: an option, a metric or a plain field. */
export function cell(r: SweepRow, col: string): string | number | null {
  if (col.startsWith('opt:')) {
    const v = r.options[col.slice(4)];
    return v === undefined ? null : typeof v === 'number' ? v : String(v);
  }
  const v = (r as unknown as Record<string, unknown>)[col];
  return typeof v === 'number' || typeof v === 'string' ? v : null;
}

export function sortRows(rows: SweepRow[], col: string, dir: 1 | -1): SweepRow[] {
  return rows.slice().sort((a, b) => {
    const x = cell(a, col);
    const y = cell(b, col);
    // empty values last whichever way
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
  });
}

/** every whitespace-separated word must appear in the row's key or status */
export function filterRows(rows: SweepRow[], text: string): SweepRow[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter((r) => words.every((w) => `${r.key} ${r.status} ${r.runId ?? ''}`.toLowerCase().includes(w)));
}

export interface GroupStat {
  group: string;
  n: number;
  stats: Record<MetricKey, Interval>;
}

/** Rows grouped by `by` ('config' = all swept values but the seed, 'strategy', or an option name). */
export function groupRows(rows: SweepRow[], by: string): GroupStat[] {
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const g = by === 'config' ? configOf(r) : by === 'strategy' ? r.strategy : `${by}=${String(r.options[by] ?? '-')}`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  return [...groups.entries()].map(([group, rs]) => ({
    group,
    n: rs.length,
    stats: Object.fromEntries(METRICS.map((m) => [m.key, meanCI(rs.map((r) => r[m.key]).filter((v): v is number => v !== null))])) as Record<MetricKey, Interval>,
  }));
}

export interface PairedStat {
  config: string;
  diffs: Record<MetricKey, Interval & { significant: boolean }>;
}

/** Each configuration minus the baseline, paired by seed. */
export function pairedAgainst(rows: SweepRow[], baseline: string): PairedStat[] {
  const bySeed = (cfg: string, m: MetricKey) => new Map(rows.filter((r) => configOf(r) === cfg && r[m] !== null).map((r) => [r.seed, r[m] as number]));
  const configs = [...new Set(rows.map(configOf))].filter((c) => c !== baseline);
  return configs.map((config) => ({
    config,
    diffs: Object.fromEntries(METRICS.map((m) => {
      const d = pairedDiff(bySeed(config, m.key), bySeed(baseline, m.key));
      return [m.key, { ...d, significant: significant(d) }];
    })) as unknown as PairedStat['diffs'],
  }));
}
