// The composition root: builds the run store, the services, the event hub and the command dispatcher
// once; the Electron adapter, the WebSocket server and the CLI all start from here.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SystemInfo } from '../../shared/ipc-contract';
import type { WorkerReport } from '../../shared/worker-protocol';
import type { WorkerEntry } from '../engine/worker-path';
import { RunStore } from '../store/run-store';
import type { RunStoreApi } from '../store/types';
import { EventHub } from './client-channel';
import { ExternalTail } from './external-tail';
import { createDispatcher, type Dispatch } from './dispatcher';
import { RunService } from './run-service';
import { SettingsService } from './settings-service';
import { appVersion, backendsAvailable } from './system-info';
import { TrainingService } from './training-service';
import { SweepService } from './sweep-service';
import { RunFacetsService } from './run-facets';

export interface ComposeOptions {
  runsDir: string;
  /** reported by getSystemInfo (default 'websocket'; the CLI has no window) */
  transport?: SystemInfo['transport'];
  /** tests: a fixture worker instead of the engine */
  workerEntry?: () => WorkerEntry;
  onReport?: (msg: WorkerReport) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** mark runs left 'running' by a crashed process as failed (default true) */
  recover?: boolean;
  store?: RunStoreApi;
  /** stream external runs' new steps to the views (default true) */
  tailExternal?: boolean;
}

export interface Services {
  runsDir: string;
  store: RunStoreApi;
  events: EventHub;
  settings: SettingsService;
  training: TrainingService;
  runs: RunService;
  sweeps: SweepService;
  dispatch: Dispatch;
  /** checkpoint and stop running runs, end the workers */
  dispose(): Promise<void>;
}

export async function composeServices(opts: ComposeOptions): Promise<Services> {
  const runsDir = resolve(opts.runsDir);
  mkdirSync(runsDir, { recursive: true });
  const log = opts.log ?? ((level, message) => (level === 'warn' ? console.warn(`loadscope: ${message}`) : console.log(`loadscope: ${message}`)));
  const store = opts.store ?? new RunStore(runsDir);
  const events = new EventHub();
  const settings = new SettingsService(runsDir);
  for (const w of settings.warnings) log('warn', w);
  const training = new TrainingService({
    store,
    emit: (event, payload) => events.emit(event, payload),
    maxConcurrentRuns: () => settings.get().maxConcurrentRuns,
    workerEntry: opts.workerEntry,
    onReport: opts.onReport,
    log,
  });
  if (opts.recover !== false) await training.recoverInterrupted();
  const runs = new RunService(store, (id) => training.statusOf(id) !== null, { queuePositionOf: (id) => training.queuePositionOf(id), queuedForOf: (id) => training.queuedForOf(id), liveSummaryOf: (id) => training.liveSummaryOf(id) });
  const tail = opts.tailExternal === false ? null : new ExternalTail(runsDir, (event, payload) => events.emit(event, payload));
  tail?.start();
  const ok = { ok: true } as const;
  const facets = new RunFacetsService(store);
  const sweeps = new SweepService(runsDir, store, training, (reason) => events.emit('runs:changed', { reason }));

  const dispatch = createDispatcher(
    {
      getSystemInfo: () => ({ version: appVersion(), runsDir, backends: backendsAvailable(), maxConcurrentRuns: settings.get().maxConcurrentRuns, transport: opts.transport ?? 'websocket' }),
      startRun: (r) => training.start(r.config),
      pauseRun: (r) => (training.pause(r.runId), ok),
      resumeRun: (r) => (training.resume(r.runId), ok),
      stopRun: async (r) => (await training.stop(r.runId), ok),
      checkpointRun: async (r) => ({ step: await training.checkpoint(r.runId) }),
      listRuns: () => runs.list(),
      getRun: (r) => runs.get(r.runId),
      renameRun: async (r) => (await runs.rename(r.runId, r.name), events.emit('runs:changed', { reason: 'renamed' }), ok),
      tagRun: async (r) => (await runs.tag(r.runId, r.tags), events.emit('runs:changed', { reason: 'tagged' }), ok),
      deleteRun: async (r) => (await runs.delete(r.runId), events.emit('runs:changed', { reason: 'deleted' }), ok),
      getScalars: (r) => runs.scalars(r.runId, r),
      getHeatmap: (r) => runs.heatmap(r.runId, r.layer, r),
      getLoadsAt: (r) => runs.loadsAt(r.runId, r.step),
      getExpert: (r) => runs.expert(r.runId, r.layer, r.expert, r.maxPoints),
      listCheckpoints: (r) => runs.checkpoints(r.runId),
      resumeFromCheckpoint: (r) => training.resumeFromCheckpoint(r.runId, r.step, r.steps),
      branchRun: (r) => training.branch(r.runId, r.step, r.name, r.steps),
      exportSeries: (r) => runs.exportSeries(r.runId, r.series, r.format),
      inspectDataFile: (r) => runs.inspectDataFile(r.path),
      startSweep: (r) => sweeps.start(r.spec),
      resumeSweep: (r) => sweeps.resume(r.sweepId),
      cancelSweep: (r) => sweeps.cancel(r.sweepId),
      listSweeps: () => sweeps.list(),
      getSweep: (r) => sweeps.get(r.sweepId),
      listRunFacets: () => facets.list(),
      setRunNotes: async (r) => (await facets.setNotes(r.runId, r.notes), events.emit('runs:changed', { reason: 'notes' }), ok),
    },
    (command, err) => log('warn', `${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  );

  return { runsDir, store, events, settings, training, runs, sweeps, dispatch, dispose: () => (tail?.dispose(), training.dispose()) };
}
