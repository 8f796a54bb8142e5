// Watches external runs (written by another trainer, docs/trainers.md) and streams their new steps to the
// views as `run:frame` events, like a built-in run's: fs.watch for promptness, a 250 ms poll as the fallback.
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { EventPayloads } from '../../shared/ipc-contract';
import type { RunStatus } from '../../shared/reports';
import { FILES, isValidRunId } from '../store/format';
import { readJsonFile, writerAlive } from '../store/fs-util';
import { isExternalMeta } from '../store/external';
import { RunReaderImpl } from '../store/run-reader';
import { FRAME_INTERVAL_MS } from './run-frames';

export const POLL_MS = 250;
/** folders are looked for (new external runs) every this many polls */
const DISCOVER_EVERY = 4;

interface Tailed {
  /** kept open: it reads only what was appended since the last look */
  reader: RunReaderImpl;
  size: number;
  lastStep: number;
  status: RunStatus | null;
  lastEmit: number;
  timer: ReturnType<typeof setTimeout> | null;
}

type Emit = <E extends 'run:frame' | 'run:status' | 'runs:changed'>(event: E, payload: EventPayloads[E]) => void;

export class ExternalTail {
  private runs = new Map<string, Tailed>();
  /** Loadscope's own runs, seen once: a run's source never changes, so their meta.json is not re-read every second */
  private builtIn = new Set<string>();
  private poll: ReturnType<typeof setInterval> | null = null;
  private watcher: FSWatcher | null = null;
  private polls = 0;

  constructor(
    private readonly root: string,
    private readonly emit: Emit,
  ) {}

  start(): void {
    this.discover(true);
    this.poll = setInterval(() => this.tick(), POLL_MS);
    this.poll.unref?.();
    try {
      // recursive watching is not available everywhere (older Linux kernels, network disks): the poll covers it
      this.watcher = watch(this.root, { recursive: true }, (_event, file) => {
        const id = typeof file === 'string' ? file.split(/[\\/]/)[0] : undefined;
        if (id && this.runs.has(id)) this.schedule(id);
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = null;
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private tick(): void {
    if (++this.polls % DISCOVER_EVERY === 0) this.discover(false);
    for (const id of this.runs.keys()) this.schedule(id);
  }

  /** Find external runs; a new one appearing is announced so run lists refresh. */
  private discover(initial: boolean): void {
    if (!existsSync(this.root)) return;
    let added = false;
    for (const id of readdirSync(this.root)) {
      if (this.runs.has(id) || this.builtIn.has(id) || !isValidRunId(id)) continue;
      const meta = readJsonFile(join(this.root, id, FILES.meta));
      if (!meta.ok) continue; // not written yet (a trainer creating its folder): looked at again next time
      if (!isExternalMeta(meta.value)) {
        this.builtIn.add(id);
        continue;
      }
      // start from what is on disk now: the view loads that itself, frames carry what comes after
      const r = this.open(id);
      if (!r) continue;
      this.runs.set(id, { reader: r, size: this.stepsSize(id), lastStep: r.lastStep, status: this.statusOf(id), lastEmit: 0, timer: null });
      added = true;
    }
    if (added && !initial) this.emit('runs:changed', { reason: 'external run' });
  }

  private open(id: string): RunReaderImpl | null {
    try {
      return new RunReaderImpl(join(this.root, id), id, { quick: true });
    } catch {
      return null; // a folder being created: next round
    }
  }

  private stepsSize(id: string): number {
    try {
      return statSync(join(this.root, id, FILES.steps)).size;
    } catch {
      return 0;
    }
  }

  /** Check one run now, or as soon as the built-in frame interval allows. */
  private schedule(id: string): void {
    const t = this.runs.get(id);
    if (!t || t.timer) return;
    const wait = Math.max(0, t.lastEmit + FRAME_INTERVAL_MS - Date.now());
    t.timer = setTimeout(() => {
      t.timer = null;
      this.check(id, t);
    }, wait);
  }

  /** The status as a view shows it: an external run whose writer is gone is "stopped" (nothing is written). */
  private statusOf(id: string): RunStatus | null {
    const m = readJsonFile(join(this.root, id, FILES.meta));
    if (!m.ok || typeof m.value !== 'object' || m.value === null) return null;
    const status = (m.value as { status?: RunStatus }).status ?? 'stopped';
    return status === 'running' && !writerAlive(join(this.root, id)) ? 'stopped' : status;
  }

  private check(id: string, t: Tailed): void {
    const size = this.stepsSize(id);
    if (size !== t.size) {
      t.size = size;
      this.emitNewSteps(id, t);
    }
    // status changes (the trainer closed the run, or its process went away) are seen without new steps too
    const status = this.statusOf(id);
    if (status && status !== t.status) {
      t.status = status;
      this.emit('run:status', { runId: id, status, ...(status === 'stopped' ? { message: 'stopped writing' } : {}) });
    }
  }

  private emitNewSteps(id: string, t: Tailed): void {
    const r = t.reader;
    const from = t.lastStep + 1;
    const s = r.scalars({ fromStep: from, maxPoints: Number.MAX_SAFE_INTEGER });
    if (s.steps.length === 0) return;
    const loads = r.loadsAt();
    const points = s.steps.map((step, i) => ({ step, loss: s.loss[i]!, maxVio: s.maxVio[i]!, avgMaxVio: s.avgMaxVio[i]!, supMaxVio: s.supMaxVio[i]!, tokensPerSec: s.tokensPerSec[i]!, lr: s.lr[i]!, dropped: 0 }));
    t.lastStep = s.steps.at(-1)!;
    t.lastEmit = Date.now();
    const frame: EventPayloads['run:frame'] = { runId: id, step: t.lastStep, totalSteps: r.config.steps, points, loadsLE: loads.loadsLE, layers: loads.layers, experts: loads.experts, idealLoad: loads.idealLoad, etaMs: null };
    const ev = s.eval.at(-1);
    if (ev && ev.step >= from) frame.eval = { ...ev, valMaxVioL: [] };
    this.emit('run:frame', frame);
  }

  dispose(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.stopWatching();
    for (const t of this.runs.values()) {
      if (t.timer) clearTimeout(t.timer);
      t.reader.close();
    }
    this.runs.clear();
  }
}
