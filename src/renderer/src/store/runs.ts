// The runs list: loaded once, reloaded on `runs:changed` and on reconnect; shared by Runs, Compare and the header.
import { ref, shallowRef, watch } from 'vue';
import type { RunListItem } from '../../../shared/ipc-contract';
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
      if (i >= 0 && runs.value[i]!.status !== s.status) {
        const next = runs.value.slice();
        next[i] = { ...next[i]!, status: s.status };
        runs.value = next;
      }
    });
    watch(() => connection.epoch, () => void refreshRuns());
    void refreshRuns();
  }
  return { runs, runsLoaded, runsError, refreshRuns };
}
