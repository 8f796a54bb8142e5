// The runs list's filters, hyper-parameter columns and sort as pure functions of the list and the facets.
import type { RunListItem } from '../../../shared/ipc-contract';
import type { RunFacets } from '../../../shared/run-facets';

export interface RunsFilter {
  text: string;
  strategy: string;
  status: string;
  tag: string;
  sweep: string;
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
