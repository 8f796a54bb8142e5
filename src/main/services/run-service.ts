// The run store's read side (and rename/tag/delete) for the commands: each request opens the run,
// reads what it needs (downsampled by the store) and closes it again.
import { open as openFile, stat } from 'node:fs/promises';
import type { CommandResponses, RunDetail } from '../../shared/ipc-contract';
import type { RunReader, RunStoreApi } from '../store/types';
import { conflict, messageOf, notFound, ServiceError } from './errors';

export class RunService {
  constructor(
    private readonly store: RunStoreApi,
    /** runs the training service is driving: these cannot be deleted */
    private readonly isActive: (runId: string) => boolean,
  ) {}

  list(): Promise<CommandResponses['listRuns']> {
    return this.store.list();
  }

  async get(runId: string): Promise<RunDetail> {
    return this.read(runId, (r) => {
      const item = { runId, name: r.meta.name, status: r.meta.status, strategy: r.config.strategy, preset: r.config.preset, tags: r.meta.tags, createdAt: r.meta.createdAt };
      const s = r.meta.summary;
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
