// A tiny hash router: #/runs, #/new, #/run/<id>, #/compare?runs=a,b, #/expert/<id>?layer=&expert=, #/sweeps, #/sweep/<id> (works from file:// too).
import { computed, ref } from 'vue';

export type RouteName = 'runs' | 'new' | 'run' | 'compare' | 'expert' | 'sweeps' | 'sweep';
export interface Route {
  name: RouteName;
  runId: string | null;
  query: Record<string, string>;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(queryPart));
  const [head = '', id] = pathPart.split('/').map((s) => decodeURIComponent(s));
  if (head === 'new') return { name: 'new', runId: null, query };
  if (head === 'run' && id) return { name: 'run', runId: id, query };
  if (head === 'compare') return { name: 'compare', runId: null, query };
  if (head === 'expert' && id) return { name: 'expert', runId: id, query };
  if (head === 'sweeps') return { name: 'sweeps', runId: null, query };
  // the sweep's id rides in runId (one id per route)
  if (head === 'sweep' && id) return { name: 'sweep', runId: id, query };
  return { name: 'runs', runId: null, query };
}

const hash = ref(location.hash);
window.addEventListener('hashchange', () => (hash.value = location.hash));

export const route = computed(() => parse(hash.value));

export function navigate(path: string, query: Record<string, string | number | undefined> = {}): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  location.hash = `#/${path}${qs ? `?${qs}` : ''}`;
}

export const go = {
  runs: () => navigate('runs'),
  newRun: () => navigate('new'),
  run: (runId: string) => navigate(`run/${encodeURIComponent(runId)}`),
  compare: (runIds: string[] = []) => navigate('compare', { runs: runIds.join(',') }),
  expert: (runId: string, layer: number, expert: number) => navigate(`expert/${encodeURIComponent(runId)}`, { layer, expert }),
};
