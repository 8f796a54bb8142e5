// The run store's read side (and rename/tag/delete) for the commands: each request opens the run,
// reads what it needs (downsampled by the store) and closes it again.
import { open as openFile, stat } from 'node:fs/promises';
import type { CommandResponses, RunDetail } from '../../shared/ipc-contract';
import type { RunSummary } from '../../shared/reports';
import type { RunReader, RunStoreApi } from '../store/types';
import { readRunCost } from '../store/run-cost';
import { conflict, messageOf, notFound, ServiceError } from './errors';

export interface LiveRuns {
  queuePositionOf(runId: string): number | null;
  /** optional: what a queued run waits for (a slot, or also the shared engine worker) */
  queuedForOf?(runId: string): 'slot' | 'shared-worker' | null;
  liveSummaryOf(runId: string): RunSummary | null;
}

export class RunService {
  constructor(
    private readonly store: RunStoreApi,
    /** runs the training service is driving: these cannot be deleted */
    private readonly isActive: (runId: string) => boolean,
    /** what only the training service knows about runs it drives: queue places and live summaries */
    private readonly live: LiveRuns = { queuePositionOf: () => null, liveSummaryOf: () => null },
  ) {}

  async list(): Promise<CommandResponses['listRuns']> {
    const items = await this.store.list();
    return items.map((i) => {
      const queuePosition = this.live.queuePositionOf(i.runId);
      const queuedFor = this.live.queuedForOf?.(i.runId) ?? null;
      return queuePosition === null ? i : { ...i, queuePosition, ...(queuedFor ? { queuedFor } : {}) };
    });
  }

  async get(runId: string): Promise<RunDetail> {
    return this.read(runId, (r) => {
      const item = { runId, name: r.meta.name, status: r.meta.status, strategy: r.config.strategy, preset: r.config.preset, tags: r.meta.tags, createdAt: r.meta.createdAt };
      // a run still training has no stored summary yet: its figures so far come from the training service
      const s = (this.isActive(runId) ? this.live.liveSummaryOf(runId) : null) ?? r.meta.summary;
      const queuePosition = this.live.queuePositionOf(runId);
      const ext = r.external;
      // no summary (an external trainer's run): the last line's running AvgMaxVio / SupMaxVio when it logs
      // them (no parse of a long steps.jsonl), else computed from every line's maxVio; the last eval's perplexity
      const fin = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
      const last = s ? null : r.lastRecords();
      let avg = fin(last?.step?.avgMaxVio);
      let sup = fin(last?.step?.supMaxVio);
      if (last?.step && (avg === null || sup === null)) {
        const t = r.scalars({ fromStep: r.lastStep, maxPoints: 2 });
        avg ??= fin(t.avgMaxVio.at(-1));
        sup ??= fin(t.supMaxVio.at(-1));
      }
      const dropRate = s ? s.dropRate : fin(last?.step?.avgDropRate);
      const demandAvgMaxVio = s ? s.demandAvgMaxVio : fin(last?.step?.demandAvgMaxVio);
      const trainMs = s ? s.trainMs : fin(last?.step?.elapsedMs);
      return {
        ...item,
        steps: r.lastStep,
        totalSteps: r.config.steps,
        avgMaxVio: s ? (s.avgMaxVio ?? null) : avg,
        supMaxVio: s ? (s.supMaxVio ?? null) : sup,
        perplexity: s ? (s.finalValPerplexity ?? null) : fin(last?.eval?.valPerplexity),
        ...(ext ? { source: 'external' as const, external: ext } : {}),
        warnings: r.warnings,
        config: r.config,
        backend: r.meta.backend,
        summary: s,
        failure: r.meta.failure,
        readOnly: r.readOnly,
        parent: r.meta.parent,
        costModel: readRunCost(r.dir, r.config),
        ...(queuePosition === null ? {} : { queuePosition }),
        ...(dropRate === undefined || dropRate === null ? {} : { dropRate }),
        ...(demandAvgMaxVio === undefined || demandAvgMaxVio === null ? {} : { demandAvgMaxVio }),
        ...(trainMs === undefined || trainMs === null ? {} : { trainMs }),
      };
    });
  }

  async rename(runId: string, name: string): Promise<void> {
    await this.wrap(runId, () => this.store.rename(runId, name));
  }

  async tag(runId: string, tags: string[]): Promise<void> {
    await this.wrap(runId, () => this.store.tag(runId, tags));
  }

  async delete(runId: string): Promise<void> {
    if (this.isActive(runId)) throw conflict(`run ${runId} is training: stop it before deleting`);
    await this.wrap(runId, () => this.store.delete(runId));
  }

  scalars(runId: string, o: { fromStep?: number; toStep?: number; maxPoints: number }) {
    return this.read(runId, (r) => r.scalars(o));
  }

  heatmap(runId: string, layer: number, o: { fromStep?: number; toStep?: number; maxColumns: number }) {
    return this.read(runId, (r) => {
      if (layer >= r.config.model.layers) throw notFound(`run ${runId} has ${r.config.model.layers} layers (0–${r.config.model.layers - 1}), not layer ${layer}`);
      return r.heatmap(layer, o);
    });
  }

  loadsAt(runId: string, step?: number) {
    return this.read(runId, (r) => r.loadsAt(step));
  }

  expert(runId: string, layer: number, expert: number, maxPoints: number) {
    return this.read(runId, (r) => {
      const { layers, experts } = r.config.model;
      if (layer >= layers || expert >= experts) throw notFound(`run ${runId} has ${layers} layers × ${experts} experts; no layer ${layer} expert ${expert}`);
      return r.expert(layer, expert, maxPoints);
    });
  }

  checkpoints(runId: string) {
    return this.read(runId, (r) => r.listCheckpoints());
  }

  exportSeries(runId: string, series: 'scalars' | 'loads' | 'eval' | 'top-tokens', format: 'csv' | 'json') {
    return this.read(runId, (r) => r.exportSeries(series, format));
  }

  /** Size and the first bytes (as text) of a user-picked data file. */
  async inspectDataFile(path: string): Promise<CommandResponses['inspectDataFile']> {
    let bytes: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a regular file');
      bytes = st.size;
    } catch (err) {
      throw notFound(`cannot read ${path}: ${messageOf(err)}`);
    }
    const fh = await openFile(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(bytes, 2048));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return { bytes, preview: buf.subarray(0, bytesRead).toString('utf8') };
    } finally {
      await fh.close();
    }
  }

  private async read<T>(runId: string, fn: (r: RunReader) => T): Promise<T> {
    let reader: RunReader;
    try {
      reader = await this.store.open(runId);
    } catch (err) {
      throw err instanceof ServiceError ? err : notFound(`run ${runId} not found: ${messageOf(err)}`);
    }
    try {
      return fn(reader);
    } finally {
      reader.close();
    }
  }

  private async wrap(runId: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      const msg = messageOf(err);
      throw /not found|no such|ENOENT/i.test(msg) ? notFound(`run ${runId} not found`) : new ServiceError('internal', msg);
    }
  }
}
