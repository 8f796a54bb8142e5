// Sweeps: expands a spec into a grid of runs, queues them on the TrainingService's slots, keeps a manifest
// per sweep (<runs>/.sweeps/<id>.json) so a restart can queue what is missing, and cancels a sweep whole.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expandSweep, type SweepCell, type SweepDetail, type SweepInfo, type SweepRow, type SweepSpec, type SweepStatus } from '../../shared/sweep';
import type { RunStatus } from '../../shared/reports';
import type { RunStoreApi } from '../store/types';
import { readJsonFile, writeFileAtomicSync } from '../store/fs-util';
import { readLastRecord } from '../store/jsonl';
import { FILES } from '../store/format';
import { invalid, notFound } from './errors';
import type { TrainingService } from './training-service';

export interface SweepManifest {
  sweepId: string;
  name: string;
  createdAt: string;
  status: SweepStatus;
  spec: SweepSpec;
  cells: Array<Omit<SweepCell, 'config'> & { config: SweepCell['config']; runId: string | null }>;
}

const SWEEP_ID = /^sweep-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;
const FINISHED: RunStatus[] = ['completed', 'stopped', 'failed'];

export const sweepsDirOf = (runsDir: string): string => join(runsDir, '.sweeps');

/** Read a sweep's manifest (not-found / invalid with one clear line). */
export function readManifest(runsDir: string, sweepId: string): SweepManifest {
  if (!SWEEP_ID.test(sweepId)) throw invalid(`"${sweepId}" is not a sweep id (like sweep-20260101-120000-a1b2c3)`);
  const path = join(sweepsDirOf(runsDir), `${sweepId}.json`);
  if (!existsSync(path)) throw notFound(`no sweep "${sweepId}" in ${runsDir}`);
  const r = readJsonFile(path);
  if (!r.ok) throw invalid(`sweep manifest ${path}: ${r.error}`);
  const m = r.value as SweepManifest;
  if (typeof m !== 'object' || m === null || !Array.isArray(m.cells) || m.sweepId !== sweepId) throw invalid(`sweep manifest ${path} is not a sweep manifest`);
  return m;
}

export class SweepService {
  constructor(
    private readonly runsDir: string,
    private readonly store: RunStoreApi,
    private readonly training: TrainingService,
    private readonly changed: (reason: string) => void = () => {},
  ) {}

  /** Validate the whole grid, write the manifest, then queue every run. */
  async start(spec: unknown): Promise<{ sweepId: string; runIds: string[] }> {
    const grid = expandSweep(spec);
    if (!grid.ok) throw invalid(`invalid sweep: ${grid.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, grid.errors);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    const sweepId = `sweep-${stamp}-${randomBytes(3).toString('hex')}`;
    const given = spec as SweepSpec;
    const manifest: SweepManifest = {
      sweepId,
      name: given.name?.trim() || sweepId,
      createdAt: new Date().toISOString(),
      status: 'running',
      spec: given,
      cells: grid.cells.map((c) => ({ ...c, runId: null })),
    };
    this.write(manifest); // first, so a crash while queueing leaves a sweep that --resume completes
    return { sweepId, runIds: await this.queueMissing(manifest) };
  }

  /** Queue what is missing or incomplete: new runs for cells without a run, checkpoint resumes for stopped/failed ones. */
  async resume(sweepId: string): Promise<{ sweepId: string; runIds: string[] }> {
    const m = readManifest(this.runsDir, sweepId);
    m.status = 'running';
    this.write(m);
    return { sweepId, runIds: await this.queueMissing(m) };
  }

  /** Stop every run of the sweep (queued ones end at once, running ones checkpoint first). */
  async cancel(sweepId: string): Promise<{ stopped: number }> {
    const m = readManifest(this.runsDir, sweepId);
    m.status = 'cancelled';
    this.write(m);
    let stopped = 0;
    for (const c of m.cells) {
      if (c.runId && this.training.statusOf(c.runId) !== null && !FINISHED.includes(this.training.statusOf(c.runId)!)) {
        await this.training.stop(c.runId);
        stopped++;
      }
    }
    this.changed('sweep cancelled');
    return { stopped };
  }

  /** The final statuses of the sweep's runs this process trains, once they all ended; marks the sweep done. */
  async waitFor(sweepId: string): Promise<Array<RunStatus | null>> {
    const m = readManifest(this.runsDir, sweepId);
    const statuses = await Promise.all(m.cells.map((c) => (c.runId ? this.training.waitFor(c.runId) : Promise.resolve(null))));
    const now = readManifest(this.runsDir, sweepId);
    if (now.status === 'running' && this.detail(now).rows.every((r) => r.status === 'completed')) {
      now.status = 'done';
      this.write(now);
    }
    return statuses;
  }

  list(): SweepInfo[] {
    const dir = sweepsDirOf(this.runsDir);
    if (!existsSync(dir)) return [];
    const out: SweepInfo[] = [];
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const { rows: _rows, spec: _spec, ...info } = this.detail(readManifest(this.runsDir, f.slice(0, -5)));
        out.push(info);
      } catch {
        // a damaged or foreign file in .sweeps is not a sweep; listing goes on
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  get(sweepId: string): SweepDetail {
    return this.detail(readManifest(this.runsDir, sweepId));
  }

  private detail(m: SweepManifest): SweepDetail {
    const rows = m.cells.map((c) => this.row(c));
    // a sweep whose runs all completed is done, whichever process trained them
    const status = m.status === 'running' && rows.every((r) => r.status === 'completed') ? 'done' : m.status;
    return { sweepId: m.sweepId, name: m.name, createdAt: m.createdAt, status, runs: rows.length, completed: rows.filter((r) => r.status === 'completed').length, spec: m.spec, rows };
  }

  /** One cell's run as the sweep view shows it: swept values and final metrics from the run folder. */
  private row(c: SweepManifest['cells'][number]): SweepRow {
    const base: SweepRow = { key: c.key, runId: c.runId, status: 'missing', strategy: c.strategy, seed: c.seed, options: c.options, steps: 0, totalSteps: 0, valPerplexity: null, avgMaxVio: null, supMaxVio: null, dropRate: null, tokensPerSec: null };
    if (!c.runId || !existsSync(join(this.runsDir, c.runId))) return base;
    const dir = join(this.runsDir, c.runId);
    const meta = readJsonFile(join(dir, FILES.meta));
    const m = (meta.ok ? meta.value : {}) as { status?: string; summary?: { tokensPerSecMedian?: number; finalValPerplexity?: number } | null };
    const cfg = readJsonFile(join(dir, FILES.config));
    const model = ((cfg.ok ? (cfg.value as { model?: Record<string, number> }).model : null) ?? {}) as Record<string, number>;
    const microBatches = (cfg.ok ? (cfg.value as { microBatches?: number }).microBatches : undefined) ?? 1;
    const last = readLastRecord(join(dir, FILES.steps)).record;
    const lastEval = readLastRecord(join(dir, FILES.eval)).record;
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
    // dropped (token, slot) assignments of the last step over all k·T·L of them
    const slots = microBatches * (model.batch ?? 0) * (model.ctx ?? 0) * (model.topK ?? 0) * (model.layers ?? 0);
    const dropped = num(last?.dropped);
    return {
      ...base,
      status: this.training.statusOf(c.runId) ?? m.status ?? 'unknown',
      steps: num(last?.step) ?? 0,
      totalSteps: (cfg.ok ? (cfg.value as { steps?: number }).steps : 0) ?? 0,
      valPerplexity: num(lastEval?.valPerplexity) ?? num(m.summary?.finalValPerplexity),
      avgMaxVio: num(last?.avgMaxVio),
      supMaxVio: num(last?.supMaxVio),
      dropRate: dropped !== null && slots > 0 ? dropped / slots : null,
      tokensPerSec: num(m.summary?.tokensPerSecMedian) ?? num(last?.tokensPerSec),
    };
  }

  private async queueMissing(m: SweepManifest): Promise<string[]> {
    const queued: string[] = [];
    for (const c of m.cells) {
      const id = await this.queueCell(m.sweepId, c);
      if (id) {
        c.runId = id;
        queued.push(id);
        this.write(m); // after each, so the manifest never forgets a run it queued
      }
    }
    this.changed('sweep queued');
    return queued;
  }

  /** The run id queued for a cell, or null when its run is complete or training here already. */
  private async queueCell(sweepId: string, c: SweepManifest['cells'][number]): Promise<string | null> {
    if (c.runId && existsSync(join(this.runsDir, c.runId))) {
      if (this.training.statusOf(c.runId) !== null) return null;
      const reader = await this.store.open(c.runId).catch(() => null);
      if (reader) {
        const status = reader.meta.status;
        const total = reader.config.steps;
        const checkpoints = reader.listCheckpoints().map((k) => k.step).filter((s) => s < total);
        const done = status === 'completed' || reader.lastStep >= total;
        reader.close();
        if (done) return null;
        if (checkpoints.length && !reader.readOnly) return (await this.training.resumeFromCheckpoint(c.runId, Math.max(...checkpoints))).runId;
      }
      // no checkpoint to continue from: a fresh run for the cell; the old folder stays on disk
    }
    return (await this.training.start(c.config, { sweep: { id: sweepId, cell: c.key } })).runId;
  }

  private write(m: SweepManifest): void {
    mkdirSync(sweepsDirOf(this.runsDir), { recursive: true });
    writeFileAtomicSync(join(sweepsDirOf(this.runsDir), `${m.sweepId}.json`), JSON.stringify(m, null, 1) + '\n');
  }
}
