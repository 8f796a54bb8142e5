// The runs list's filters, hyper-parameter columns and sort as pure functions of the list and the facets.
import type { RunListItem } from '../../../shared/ipc-contract';
import type { RunFacets } from '../../../shared/run-facets';

export interface RunsFilter {
  text: string;
  strategy: string;
  status: string;
  tag: string;
  sweep: string;
  /** a numeric range on one hyper-parameter (e.g. option.T between 2 and 8); empty bounds are open */
  rangeKey?: string;
  rangeMin?: number | '' | null;
  rangeMax?: number | '' | null;
}

const bound = (v: number | '' | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** inside the range (bounds included); with a range set, a run without a numeric value of the key is out */
export function inRange(params: Record<string, unknown> | undefined, f: RunsFilter): boolean {
  const lo = bound(f.rangeMin);
  const hi = bound(f.rangeMax);
  if (!f.rangeKey || (lo === null && hi === null)) return true;
  const v = params?.[f.rangeKey];
  if (typeof v !== 'number') return false;
  return (lo === null || v >= lo) && (hi === null || v <= hi);
}

/** hyper-parameters with a numeric value in some run (the keys a range filter can take) */
export function numericKeys(facets: Map<string, RunFacets>): string[] {
  const keys = new Set<string>();
  for (const f of facets.values()) for (const [k, v] of Object.entries(f.params)) if (typeof v === 'number') keys.add(k);
  return [...keys].sort();
}

/** every word must appear in the name, id, strategy, status, preset, a tag or the notes */
export function filterRuns(items: RunListItem[], facets: Map<string, RunFacets>, f: RunsFilter): RunListItem[] {
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter((r) => {
    const x = facets.get(r.runId);
    if (f.strategy && r.strategy !== f.strategy) return false;
    if (f.status && r.status !== f.status) return false;
    if (f.tag && !r.tags.includes(f.tag)) return false;
    if (f.sweep && x?.sweep?.id !== f.sweep) return false;
    if (!inRange(x?.params, f)) return false;
    const hay = [r.name, r.runId, r.strategy, r.status, r.preset, ...r.tags, x?.notes ?? ''].join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** hyper-parameter names that differ between runs first (those are the interesting columns), then the rest */
export function paramKeys(facets: Map<string, RunFacets>): string[] {
  const values = new Map<string, Set<string>>();
  for (const f of facets.values()) for (const [k, v] of Object.entries(f.params)) values.set(k, (values.get(k) ?? new Set()).add(String(v)));
  const keys = [...values.keys()].sort();
  return [...keys.filter((k) => values.get(k)!.size > 1), ...keys.filter((k) => values.get(k)!.size <= 1)];
}

export type SortKey = string;

/** a sortable value: a list field, or `param:<name>` from the facets */
export function sortValue(r: RunListItem, facets: Map<string, RunFacets>, key: SortKey): number | string | null {
  if (key.startsWith('param:')) {
    const v = facets.get(r.runId)?.params[key.slice(6)];
    return v === undefined ? null : typeof v === 'number' ? v : String(v);
  }
  const v = (r as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' || typeof v === 'string' ? v : null;
}

export function sortRuns(items: RunListItem[], facets: Map<string, RunFacets>, key: SortKey | '', dir: 1 | -1): RunListItem[] {
  if (!key) return items;
  return items.slice().sort((a, b) => {
    const x = sortValue(a, facets, key);
    const y = sortValue(b, facets, key);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
  });
}
