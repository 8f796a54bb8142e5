// The run store: one folder per run under a root (format: docs/run-format.md), shared by app, server and CLI.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunConfig } from '../../shared/run-config';
import type { RunListItem } from '../../shared/ipc-contract';
import { ServiceError, conflict, invalid, notFound } from '../services/errors';
import type { RunMeta, RunReader, RunStoreApi, RunWriter } from './types';
import { DTYPE_FLOAT32, FILES, FORMAT_VERSION, idealLoadOf, isValidRunId } from './format';
import { acquireLock, openWritersHere, releaseLock, writerAlive } from './fs-util';
import { LoadsAppender } from './loads-writer';
import { LoadsFile } from './loads-file';
import { readConfig, readMeta, writeConfig, writeMeta } from './meta';
import { RunReaderImpl } from './run-reader';
import { RunWriterImpl } from './run-writer';
import { cutAfter } from './resume';
import { readLastRecord } from './jsonl';

/** A folder counts as a run when it holds at least one of these. */
const RUN_MARKERS = [FILES.meta, FILES.config, FILES.steps, FILES.loads];

export class RunStore implements RunStoreApi {
  readonly root: string;

  constructor(root: string = RunStore.defaultRoot()) {
    this.root = resolve(root);
  }

  /** $LOADSCOPE_RUNS_DIR, else ~/.loadscope/runs: the folder the CLI, the server and the app share. */
  static defaultRoot(): string {
    return process.env.LOADSCOPE_RUNS_DIR || join(homedir(), '.loadscope', 'runs');
  }

  /** The folder of a run that exists (not-found otherwise). */
  dirOf(runId: string): string {
    if (!isValidRunId(runId)) throw invalid(`"${runId}" is not a run id`);
    const dir = join(this.root, runId);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw notFound(`no run "${runId}" in ${this.root}`);
    return dir;
  }

  async create(config: RunConfig, opts: { name?: string; parent?: { runId: string; step: number }; sweep?: { id: string; cell: string } } = {}): Promise<RunWriter> {
    mkdirSync(this.root, { recursive: true });
    const { runId, dir } = this.newFolder(config);
    const meta: RunMeta = {
      runId,
      name: opts.name ?? config.name ?? `${config.strategy} · ${config.preset}`,
      createdAt: new Date().toISOString(),
      tags: [],
      status: 'created',
      backend: null,
      failure: null,
      summary: null,
      parent: opts.parent ?? null,
      ...(opts.sweep ? { sweep: opts.sweep } : {}),
      formatVersion: FORMAT_VERSION,
    };
    acquireLock(dir);
    try {
      await writeConfig(dir, config);
      writeMeta(dir, meta);
      const { layers, experts } = config.model;
      const loads = LoadsAppender.create(dir, { layers, experts, dtype: DTYPE_FLOAT32, idealLoad: idealLoadOf(config.model, config.microBatches) });
      return new RunWriterImpl(runId, dir, meta, config, loads, -1);
    } catch (err) {
      // a new folder that could not be set up (disk full) is removed rather than left half-made
      releaseLock(dir);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private newFolder(config: RunConfig): { runId: string; dir: string } {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    for (let attempt = 0; ; attempt++) {
      const runId = `${stamp}-${config.strategy}-${randomBytes(3).toString('hex')}`;
      const dir = join(this.root, runId);
      try {
        mkdirSync(dir);
        return { runId, dir };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 20) throw err;
      }
    }
  }

  async openWriter(runId: string, opts: { truncateAfterStep?: number; totalSteps?: number } = {}): Promise<RunWriter> {
    const dir = this.dirOf(runId);
    // an external trainer's folder is never written, not even a lock taken and given back (read-only check first)
    if (readMeta(dir, runId, []).meta.source === 'external') {
      if (writerAlive(dir)) throw conflict(`run ${runId} is being written by another training`);
      throw new ServiceError('read-only', `run ${runId} was written by an external trainer; Loadscope cannot continue it`);
    }
    // the lock comes first (exclusive create): of concurrent resumes exactly one cuts and writes the folder
    if (openWritersHere.has(dir) || !acquireLock(dir)) throw conflict(`run ${runId} is being written by another training`);
    try {
      return await this.openLocked(dir, runId, opts);
    } catch (err) {
      releaseLock(dir);
      throw err;
    }
  }

  private async openLocked(dir: string, runId: string, opts: { truncateAfterStep?: number; totalSteps?: number }): Promise<RunWriter> {
    const issues: string[] = [];
    const m = readMeta(dir, runId, issues);
    const c = readConfig(dir, issues);
    if (!m.ok || !c.ok) throw new ServiceError('read-only', `run ${runId} cannot be continued: ${issues.join('; ')}`);
    cutAfter(dir, opts.truncateAfterStep);
    const problems: string[] = [];
    const lf = LoadsFile.open(join(dir, FILES.loads), problems, { check: 'tail', final: true });
    if (problems.length > 0) throw new ServiceError('read-only', `run ${runId} cannot be continued: ${problems.join('; ')}`);
    const lastStep = (readLastRecord(join(dir, FILES.steps)).record?.step as number | undefined) ?? lf?.lastStep ?? -1;
    const loads = lf ? LoadsAppender.reopen(dir, lf) : null;
    lf?.close();
    let config = c.config;
    if (opts.totalSteps !== undefined && opts.totalSteps !== config.steps) {
      config = { ...config, steps: opts.totalSteps };
      await writeConfig(dir, config);
    }
    return new RunWriterImpl(runId, dir, m.meta, config, loads, lastStep);
  }

  async open(runId: string): Promise<RunReader> {
    return new RunReaderImpl(this.dirOf(runId), runId);
  }

  /** All runs, newest first; a damaged folder is listed with its warnings, never makes this throw. */
  async list(): Promise<RunListItem[]> {
    if (!existsSync(this.root)) return [];
    const items: RunListItem[] = [];
    for (const name of readdirSync(this.root)) {
      if (name.startsWith('.') || !isValidRunId(name)) continue;
      const dir = join(this.root, name);
      try {
        if (!statSync(dir).isDirectory() || !RUN_MARKERS.some((f) => existsSync(join(dir, f)))) continue;
        items.push(this.listItem(dir, name));
      } catch (err) {
        items.push(brokenItem(name, err));
      }
    }
    return items.sort((a, b) => (b.createdAt || '').localeCompare(a.createdAt || '') || a.runId.localeCompare(b.runId));
  }

  private listItem(dir: string, runId: string): RunListItem {
    const r = new RunReaderImpl(dir, runId, { quick: true });
    try {
      const last = readLastRecord(join(dir, FILES.steps)).record;
      const lastEval = readLastRecord(join(dir, FILES.eval)).record;
      const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
      let avg = num(last?.avgMaxVio);
      let sup = num(last?.supMaxVio);
      if (last && (avg === null || sup === null) && typeof last.maxVio === 'number' && statSync(join(dir, FILES.steps)).size <= 4 << 20) {
        // an external trainer logged only maxVio: running mean / max over a (small) steps.jsonl
        const s = r.scalars({ fromStep: last.step as number, maxPoints: 2 });
        avg ??= num(s.avgMaxVio.at(-1));
        sup ??= num(s.supMaxVio.at(-1));
      }
      const ext = r.external;
      return {
        runId,
        name: r.meta.name,
        status: r.meta.status,
        strategy: ext ? (ext.unknown.includes('strategy') ? 'unknown' : r.config.strategy) : r.config.strategy,
        preset: ext ? `external · ${ext.framework}` : r.config.preset,
        tags: r.meta.tags,
        createdAt: r.meta.createdAt,
        steps: r.lastStep,
        totalSteps: r.config.steps,
        avgMaxVio: avg,
        supMaxVio: sup,
        perplexity: num(lastEval?.valPerplexity),
        dropRate: num(last?.avgDropRate),
        demandAvgMaxVio: num(last?.demandAvgMaxVio),
        // a branch's own training time is in its summary (its steps' elapsedMs continue nothing of the parent's)
        trainMs: num(r.meta.summary?.trainMs) ?? num(last?.elapsedMs),
        warnings: r.warnings,
        ...(ext ? { source: 'external' as const } : {}),
      };
    } finally {
      r.close();
    }
  }

  async rename(runId: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (!trimmed) throw invalid('a run name cannot be empty');
    this.updateMeta(runId, (m) => ({ ...m, name: trimmed }));
  }

  async tag(runId: string, tags: string[]): Promise<void> {
    this.updateMeta(runId, (m) => ({ ...m, tags: [...new Set(tags.map((t) => t.trim()).filter(Boolean))] }));
  }

  private updateMeta(runId: string, f: (m: RunMeta) => RunMeta): void {
    const dir = this.dirOf(runId);
    const issues: string[] = [];
    const m = readMeta(dir, runId, issues);
    if (!m.ok) throw new ServiceError('read-only', `run ${runId} is read-only: ${issues.join('; ')}`);
    writeMeta(dir, f(m.meta));
  }

  /** Remove the run's folder (the CLI and the UI ask first). Refused while a training writes it. */
  async delete(runId: string): Promise<void> {
    const dir = this.dirOf(runId);
    if (writerAlive(dir)) throw conflict(`run ${runId} is being written; stop it before deleting`);
    rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Runs whose meta says 'running' but whose writer is gone (the process crashed or was killed) are marked
   * 'failed' with a message saying so. The services call this on start-up. Returns the run ids marked.
   */
  async markCrashedRuns(): Promise<string[]> {
    const marked: string[] = [];
    for (const item of await this.list()) {
      if (item.status !== 'running') continue;
      const dir = join(this.root, item.runId);
      if (writerAlive(dir) || openWritersHere.has(dir)) continue;
      const issues: string[] = [];
      const m = readMeta(dir, item.runId, issues);
      // an external trainer owns its run: never marked failed or touched, whether or not it still writes
      if (!m.ok || m.meta.source === 'external') continue;
      writeMeta(dir, { ...m.meta, status: 'failed', failure: 'the training process ended without closing the run (crash or kill); resume from its last checkpoint' });
      rmSync(join(dir, FILES.lock), { force: true });
      marked.push(item.runId);
    }
    return marked;
  }
}

function brokenItem(runId: string, err: unknown): RunListItem {
  return {
    runId,
    name: runId,
    status: 'failed',
    strategy: '',
    preset: '',
    tags: [],
    createdAt: '',
    steps: 0,
    totalSteps: 0,
    avgMaxVio: null,
    supMaxVio: null,
    perplexity: null,
    warnings: [`could not read this run: ${err instanceof Error ? err.message : String(err)}`],
  };
}
