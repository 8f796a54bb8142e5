// The runs list: loaded once, reloaded on `runs:changed` and on reconnect; shared by Runs, Compare and the header.
import { ref, shallowRef, watch } from 'vue';
import type { EventPayloads, RunListItem } from '../../../shared/ipc-contract';
import { call, connection, useApi } from '../api/transport';

export const runs = shallowRef<RunListItem[]>([]);
export const runsLoaded = ref(false);
export const runsError = ref<string | null>(null);

let started = false;
let inFlight: Promise<void> | null = null;

export function refreshRuns(): Promise<void> {
  inFlight ??= (async () => {
    const r = await call('listRuns', {});
    if (r.ok) {
      runs.value = r.value;
      runsError.value = null;
      runsLoaded.value = true;
    } else runsError.value = r.error.message;
  })().finally(() => (inFlight = null));
  return inFlight;
}

/** One frame's latest point into the run's list row. */
export function patchFromFrame(f: EventPayloads['run:frame']): void {
  const i = runs.value.findIndex((r) => r.runId === f.runId);
  const p = f.points.at(-1);
  if (i < 0 || !p) return;
  const { queuePosition: _q, queuedFor: _f, ...cur } = runs.value[i]!;
  const next = runs.value.slice();
  next[i] = {
    ...cur,
    status: cur.status === 'created' ? 'running' : cur.status,
    steps: f.step,
    totalSteps: f.totalSteps,
    avgMaxVio: p.avgMaxVio,
    supMaxVio: p.supMaxVio,
    dropRate: p.avgDropRate,
    demandAvgMaxVio: p.demandAvgMaxVio,
    trainMs: p.elapsedMs,
    ...(f.eval ? { perplexity: f.eval.valPerplexity } : {}),
  };
  runs.value = next;
}

/** Start listening (once per page). */
export function useRuns() {
  if (!started) {
    started = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // coalesce bursts of changes (a run writing checkpoints, several deletes) into one reload
    useApi().on('runs:changed', () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void refreshRuns();
      }, 150);
    });
    useApi().on('run:status', (s) => {
      const i = runs.value.findIndex((r) => r.runId === s.runId);
      if (i < 0) return;
      const cur = runs.value[i]!;
      const queuePosition = s.status === 'created' ? (s.queuePosition ?? cur.queuePosition) : undefined;
      const queuedFor = queuePosition === undefined ? undefined : (s.queuedFor ?? cur.queuedFor);
      if (cur.status === s.status && cur.queuePosition === queuePosition && cur.queuedFor === queuedFor) return;
      const next = runs.value.slice();
      const { queuePosition: _old, queuedFor: _oldFor, ...rest } = cur;
      next[i] = queuePosition === undefined ? { ...rest, status: s.status } : { ...rest, status: s.status, queuePosition, ...(queuedFor ? { queuedFor } : {}) };
      runs.value = next;
    });
    // status, step and running metrics follow the frames of training runs (patched in place, no reload)
    useApi().on('run:frame', (f) => patchFromFrame(f));
    watch(() => connection.epoch, () => void refreshRuns());
    void refreshRuns();
  }
  return { runs, runsLoaded, runsError, refreshRuns };
}
