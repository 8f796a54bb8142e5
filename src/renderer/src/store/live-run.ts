// State of one run on screen: detail, status, the latest layer×expert loads and bounded scalar curves,
// loaded once and then fed by `run:frame` / `run:status` events (non-reactive arrays + a version counter).
import { onScopeDispose, reactive, shallowRef, watch, type Ref } from 'vue';
import type { EventPayloads, RunDetail } from '../../../shared/ipc-contract';
import type { RunStatus } from '../../../shared/reports';
import { call, connection, useApi } from '../api/transport';
import { BoundedSeries } from '../lib/bounded-series';

export type EvalPoint = { step: number; valLoss: number; valPerplexity: number; valMaxVio: number; lossGap?: number };

export interface LiveRunState {
  runId: string | null;
  detail: RunDetail | null;
  status: RunStatus | null;
  statusMessage: string | null;
  loading: boolean;
  error: string | null;
  step: number;
  totalSteps: number;
  etaMs: number | null;
  tokensPerSec: number | null;
  layers: number;
  experts: number;
  idealLoad: number;
  /** step of loadsLE (-1: none yet) */
  loadsStep: number;
  /** bumps whenever the curves or loads change */
  version: number;
}

export function useLiveRun(runId: Ref<string | null>) {
  const api = useApi();
  const state = reactive<LiveRunState>(blank(null));
  const series = new BoundedSeries(4000);
  const evals = shallowRef<EvalPoint[]>([]);
  let loadsLE: number[] = [];
  let buffered: Array<EventPayloads['run:frame']> = [];
  let generation = 0;

  function applyFrame(f: EventPayloads['run:frame']): void {
    for (const p of f.points) series.append(p);
    if (f.loadsLE.length === f.layers * f.experts) {
      loadsLE = f.loadsLE;
      state.layers = f.layers;
      state.experts = f.experts;
      state.idealLoad = f.idealLoad;
      state.loadsStep = f.step;
    }
    state.step = f.step;
    state.totalSteps = f.totalSteps;
    state.etaMs = f.etaMs;
    const last = f.points[f.points.length - 1];
    if (last) state.tokensPerSec = last.tokensPerSec;
    if (f.eval) evals.value = [...evals.value.filter((e) => e.step < f.eval!.step), { step: f.eval.step, valLoss: f.eval.valLoss, valPerplexity: f.eval.valPerplexity, valMaxVio: f.eval.valMaxVio, lossGap: f.eval.lossGap }];
    state.version++;
  }

  async function load(): Promise<void> {
    const id = runId.value;
    const gen = ++generation;
    buffered = [];
    // a reload of the same run (reconnect, restore) keeps showing the old data until the new arrives
    if (state.runId !== id || !id) {
      Object.assign(state, blank(id));
      series.clear();
      evals.value = [];
      loadsLE = [];
    }
    if (!id) return;
    state.loading = true;
    const [detail, scalars, loads] = await Promise.all([
      call('getRun', { runId: id }),
      call('getScalars', { runId: id, maxPoints: 2000 }),
      call('getLoadsAt', { runId: id }),
    ]);
    if (gen !== generation) return;
    state.loading = false;
    if (!detail.ok) {
      state.error = detail.error.message;
      return;
    }
    state.error = null;
    series.clear();
    evals.value = [];
    state.detail = detail.value;
    state.status = detail.value.status;
    state.step = detail.value.steps;
    state.totalSteps = detail.value.totalSteps;
    state.layers = detail.value.config.model.layers;
    state.experts = detail.value.config.model.experts;
    if (scalars.ok) {
      const s = scalars.value;
      s.steps.forEach((step, i) =>
        series.append({ step, loss: s.loss[i]!, maxVio: s.maxVio[i]!, avgMaxVio: s.avgMaxVio[i]!, supMaxVio: s.supMaxVio[i]!, tokensPerSec: s.tokensPerSec[i]! }),
      );
      evals.value = s.eval.slice();
      const n = s.steps.length;
      if (n) state.tokensPerSec = s.tokensPerSec[n - 1]!;
    }
    // a run without steps answers zeros (an empty grid of the right shape): keep "waiting for the first step"
    if (loads.ok && loads.value.loadsLE.some((x) => x > 0)) {
      loadsLE = loads.value.loadsLE;
      state.layers = loads.value.layers;
      state.experts = loads.value.experts;
      state.idealLoad = loads.value.idealLoad;
      state.loadsStep = loads.value.step;
    }
    for (const f of buffered.splice(0)) if (f.step > series.lastStep || f.points.length === 0) applyFrame(f);
    state.version++;
  }

  const offFrame = api.on('run:frame', (f) => {
    if (f.runId !== runId.value) return;
    if (state.loading) buffered.push(f);
    else applyFrame(f);
  });
  const offStatus = api.on('run:status', (s) => {
    if (s.runId !== runId.value) return;
    state.status = s.status;
    state.statusMessage = s.message ?? null;
    if (state.detail && s.backend) state.detail = { ...state.detail, backend: s.backend };
    // the final figures (summary, steps on disk) arrive with the finished run
    if (s.status === 'completed' || s.status === 'stopped' || s.status === 'failed') void refreshDetail();
  });

  async function refreshDetail(): Promise<void> {
    const id = runId.value;
    if (!id) return;
    const r = await call('getRun', { runId: id });
    if (r.ok && id === runId.value) {
      state.detail = r.value;
      state.status = r.value.status;
      if (r.value.failure) state.statusMessage = r.value.failure;
    }
  }

  watch(runId, () => void load(), { immediate: true });
  watch(() => connection.epoch, () => void load());
  onScopeDispose(() => {
    offFrame();
    offStatus();
    generation++;
  });

  return { state, series, evals, getLoads: () => loadsLE, reload: load, refreshDetail };
}

function blank(runId: string | null): LiveRunState {
  return {
    runId,
    detail: null,
    status: null,
    statusMessage: null,
    loading: false,
    error: null,
    step: 0,
    totalSteps: 0,
    etaMs: null,
    tokensPerSec: null,
    layers: 0,
    experts: 0,
    idealLoad: 0,
    loadsStep: -1,
    version: 0,
  };
}
