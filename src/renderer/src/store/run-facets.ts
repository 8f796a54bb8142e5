// Hyper-parameters, notes, sweep and parent of every run for the runs list; reloaded with the runs list.
import { shallowRef, watch } from 'vue';
import type { RunFacets } from '../../../shared/run-facets';
import { call } from '../api/transport';
import { runs } from './runs';

export const facets = shallowRef<Map<string, RunFacets>>(new Map());
let started = false;

export async function refreshFacets(): Promise<void> {
  const r = await call('listRunFacets', {});
  if (r.ok) facets.value = new Map(r.value.map((f) => [f.runId, f]));
}

/** Start following the runs list (once per page): every reload of it reloads the facets. */
export function useFacets() {
  if (!started) {
    started = true;
    watch(runs, () => void refreshFacets(), { immediate: true });
  }
  return { facets, refreshFacets };
}
