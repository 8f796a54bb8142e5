// Data behind Compare: each chosen run's detail and scalars, and its layer × expert loads at the shared step.
import { onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue';
import type { CommandResponses, RunDetail, ScalarSeries } from '../../../shared/ipc-contract';
import { call, useApi } from '../api/transport';

const LIVE_RELOAD_MS = 1000;

export interface CompareEntry {
  runId: string;
  detail: RunDetail | null;
  scalars: ScalarSeries | null;
  loads: CommandResponses['getLoadsAt'] | null;
  error: string | null;
}

export function useCompare(runIds: Ref<string[]>, step: Ref<number | null>) {
  const entries = shallowRef<CompareEntry[]>([]);
  const loading = ref(false);
  let gen = 0;

  async function loadRuns(): Promise<void> {
    const my = ++gen;
    loading.value = true;
    const next = await Promise.all(
      runIds.value.map(async (runId): Promise<CompareEntry> => {
        const [detail, scalars] = await Promise.all([call('getRun', { runId }), call('getScalars', { runId, maxPoints: 1000 })]);
        return {
          runId,
          detail: detail.ok ? detail.value : null,
          scalars: scalars.ok ? scalars.value : null,
          loads: null,
          error: detail.ok ? (scalars.ok ? null : scalars.error.message) : detail.error.message,
        };
      }),
    );
    if (my !== gen) return;
    entries.value = next;
    loading.value = false;
    await loadLoads();
  }

  /** loads at the shared step, clamped to each run's own last step */
  async function loadLoads(): Promise<void> {
    const my = gen;
    const current = entries.value;
    const loads = await Promise.all(
      current.map(async (e) => {
        const last = lastStep(e);
        if (last === null) return null;
        const s = step.value === null ? undefined : Math.min(step.value, last);
        const r = await call('getLoadsAt', { runId: e.runId, step: s });
        return r.ok ? r.value : null;
      }),
    );
    if (my !== gen || current !== entries.value) return;
    entries.value = current.map((e, i) => ({ ...e, loads: loads[i] ?? null }));
  }

  // a run still training: its row and curves follow it (at most one reload per second while frames arrive)
  let liveTimer: ReturnType<typeof setTimeout> | null = null;
  const offFrame = useApi().on('run:frame', (f) => {
    if (liveTimer || !runIds.value.includes(f.runId)) return;
    liveTimer = setTimeout(() => {
      liveTimer = null;
      void loadRuns();
    }, LIVE_RELOAD_MS);
  });
  const offStatus = useApi().on('run:status', (s) => {
    if (runIds.value.includes(s.runId)) void loadRuns();
  });
  onScopeDispose(() => {
    offFrame();
    offStatus();
    if (liveTimer) clearTimeout(liveTimer);
  });

  watch(runIds, () => void loadRuns(), { immediate: true, deep: true });
  watch(step, () => void loadLoads());
  return { entries, loading, reload: loadRuns };
}

export function lastStep(e: CompareEntry): number | null {
  const steps = e.scalars?.steps;
  return steps && steps.length ? steps[steps.length - 1]! : null;
}

export function firstStep(e: CompareEntry): number | null {
  const steps = e.scalars?.steps;
  return steps && steps.length ? steps[0]! : null;
}
