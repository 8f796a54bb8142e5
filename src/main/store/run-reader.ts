// A read view of one run folder: opens without loading the series, refreshes as a live writer appends.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../shared/run-config';
import type { CheckpointData } from '../../shared/worker-protocol';
import type { CheckpointInfo, CommandResponses, Heatmap, ScalarSeries } from '../../shared/ipc-contract';
import { invalid, notFound } from '../services/errors';
import type { RunMeta, RunReader } from './types';
import { FILES, idealLoadOf } from './format';
import { readJsonFile, writerAlive } from './fs-util';
import { JsonlFile, readLastRecord } from './jsonl';
import { LoadsFile } from './loads-file';
import { SummaryReader, newAgg } from './summary';
import { ScalarColumns } from './scalars';
import { readConfig, readMeta } from './meta';
import { readExternalConfig, type ExternalInfo } from './external';
import { listCheckpointFiles, readCheckpointFile } from './checkpoint-io';
import { exportChunks, type ExportSeries } from './export';

/** Below this size steps.jsonl is parsed completely on open (so garbled lines are reported up front). */
const FULL_PARSE_BYTES = 4 << 20;
/** loadRows refuses larger ranges (each row is layers × experts floats). */
export const MAX_LOAD_ROWS = 20_000;

export class RunReaderImpl implements RunReader {
  readonly meta: RunMeta;
  readonly config: RunConfig;
  /** set for runs another trainer writes (meta.source "external"): read-only, never repaired */
  readonly external: ExternalInfo | null = null;
  /** what was dropped or is wrong: makes the run read-only */
  private damage: string[] = [];
  /** worth saying, but the data is fine (a crash left status 'running', a left-over temporary file) */
  private notes: string[] = [];
  readonly loads: LoadsFile | null;
  private summary: SummaryReader | null;
  private steps: JsonlFile;
  private evals: JsonlFile;
  private columns = new ScalarColumns();
  private evalRecords: ScalarSeries['eval'] = [];
  private lastScalarStep = -1;
  private live = false;
  /** list(): tails only, no full parse or checksum pass */
  private quick: boolean;

  constructor(
    readonly dir: string,
    readonly runId: string,
    opts: { quick?: boolean } = {},
  ) {
    this.quick = opts.quick ?? false;
    this.live = writerAlive(dir);
    const m = readMeta(dir, runId, this.damage);
    this.meta = m.meta;
    this.loads = LoadsFile.open(join(dir, FILES.loads), this.damage, { check: this.quick ? 'tail' : 'auto', final: !this.live });
    this.summary = this.loads ? new SummaryReader(dir, this.loads) : null;
    let c: { config: RunConfig; ok: boolean };
    if (this.meta.source === 'external') {
      const raw = readJsonFile(join(dir, FILES.config));
      const obj = raw.ok && typeof raw.value === 'object' && raw.value !== null && !Array.isArray(raw.value) ? (raw.value as Record<string, unknown>) : {};
      if (!raw.ok) this.notes.push(`config.json: ${raw.error}; the model's fields are unknown`);
      const ext = readExternalConfig(obj, typeof this.meta.framework === 'string' ? this.meta.framework : 'unknown', this.damage, this.loads?.header);
      c = { config: ext.config, ok: true };
      this.external = ext.external;
      // an external run's status is its writer's business: a vanished writer means "stopped writing", not a crash
      if (this.meta.status === 'running' && !this.live) {
        this.meta.status = 'stopped';
        this.notes.push('stopped writing: the trainer that wrote this run is gone (nothing was changed)');
      }
    } else c = readConfig(dir, this.damage, this.loads?.header);
    this.config = c.config;
    if (this.loads && c.ok && (this.loads.header.layers !== c.config.model.layers || this.loads.header.experts !== c.config.model.experts)) {
      this.damage.push(`loads.bin holds ${this.loads.header.layers}×${this.loads.header.experts} loads but config.json says ${c.config.model.layers}×${c.config.model.experts}`);
    }
    this.steps = new JsonlFile(join(dir, FILES.steps), 'steps.jsonl');
    this.evals = new JsonlFile(join(dir, FILES.eval), 'eval.jsonl');
    if (this.meta.status === 'running' && !this.live) this.notes.push('status says running but no writer is alive: the training process crashed or was killed');
    listCheckpointFiles(dir, this.notes);
    this.refresh(true);
  }

  get warnings(): string[] {
    const all = [...this.damage, ...this.loads?.issues ?? [], ...this.summary?.issues ?? [], ...this.steps.issues, ...this.evals.issues, ...this.notes];
    return [...new Set(all)];
  }

  get readOnly(): boolean {
    return this.damage.length + (this.loads?.issues.length ?? 0) + this.steps.issues.length + this.evals.issues.length > 0;
  }

  get lastStep(): number {
    this.refresh();
    return Math.max(this.lastScalarStep, this.steps.exists ? -1 : (this.loads?.lastStep ?? -1), 0);
  }

  get layers(): number {
    return this.loads?.header.layers ?? this.config.model.layers;
  }
  get experts(): number {
    return this.loads?.header.experts ?? this.config.model.experts;
  }
  get idealLoad(): number {
    if (this.loads?.header.idealLoad) return this.loads.header.idealLoad;
    // external runs: k·T/E from the declared tokens per step, else 0 (unknown), never a preset's
    if (this.external) return this.external.tokensPerStep && this.config.model.topK ? (this.external.tokensPerStep * this.config.model.topK) / this.experts : 0;
    return idealLoadOf(this.config.model, this.config.microBatches);
  }

  /** Take in what a live writer appended; on open also reports torn tails. */
  private refresh(opening = false): void {
    if (!opening) this.live = writerAlive(this.dir);
    const final = !this.live;
    if (this.steps.exists) {
      // small files are parsed completely on open, so garbled lines in the middle are reported up front
      const full = opening && final && !this.quick && fileSize(this.steps.path) <= FULL_PARSE_BYTES;
      if (full) this.parseScalars();
      const t = readLastRecord(this.steps.path);
      this.lastScalarStep = t.record ? (t.record.step as number) : -1;
      if (opening && final && !full) {
        if (t.tornBytes > 0) this.steps.reportTorn(`steps.jsonl: dropped a torn last line (${t.tornBytes} bytes, a write was interrupted) after step ${this.lastScalarStep}`);
        if (t.skipped > 0) this.damage.push(`steps.jsonl: dropped ${t.skipped} garbled line(s) at the end`);
      }
    }
    if (opening && final) {
      for (const [file, jf] of [[FILES.eval, this.evals], [FILES.topTokens, null]] as const) {
        const t = readLastRecord(join(this.dir, file));
        if (t.tornBytes > 0) {
          const msg = `${file}: dropped a torn last line (${t.tornBytes} bytes, a write was interrupted)`;
          if (jf) jf.reportTorn(msg);
          else this.damage.push(msg);
        }
      }
    }
    if (this.loads) {
      if (!opening) this.loads.refresh(final);
      this.summary!.refresh();
      if (this.steps.exists) {
        // a step is committed by its steps.jsonl line (written after its loads record)
        const before = this.loads.rows;
        const keep = this.loads.rowAtOrBefore(this.lastScalarStep) + 1;
        this.loads.capRows(keep);
        this.summary!.capRows(keep);
        if (opening && final && before > keep) this.damage.push(`loads.bin: dropped ${before - keep} record(s) after step ${this.lastScalarStep} (their steps.jsonl line was never written)`);
      }
    }
  }

  private parseScalars(): void {
    this.steps.readNew((rec) => this.columns.push(rec), !this.live);
    this.evals.readNew((rec) => {
      this.evalRecords.push({ step: rec.step as number, valLoss: num(rec.valLoss), valPerplexity: num(rec.valPerplexity), valMaxVio: num(rec.valMaxVio), ...(typeof rec.lossGap === 'number' ? { lossGap: rec.lossGap } : {}) });
    }, !this.live);
  }

  scalars(opts: { fromStep?: number; toStep?: number; maxPoints: number }): ScalarSeries {
    this.refresh();
    this.parseScalars();
    const inRange = (s: number) => (opts.fromStep === undefined || s >= opts.fromStep) && (opts.toStep === undefined || s <= opts.toStep);
    return { ...this.columns.series(opts.fromStep, opts.toStep, opts.maxPoints), eval: this.evalRecords.filter((e) => inRange(e.step)) };
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) throw invalid(`layer ${layer} is out of range (the run has ${this.layers} layers)`);
  }

  /** Rows [r0, r1) holding the steps in [fromStep, toStep]. */
  private rowRange(fromStep?: number, toStep?: number): [number, number] {
    const l = this.loads!;
    const r0 = fromStep === undefined ? 0 : l.rowAtOrAfter(fromStep);
    const r1 = toStep === undefined ? l.rows : l.rowAtOrBefore(toStep) + 1;
    return [r0, Math.max(r0, r1)];
  }

  heatmap(layer: number, opts: { fromStep?: number; toStep?: number; maxColumns: number }): Heatmap {
    this.checkLayer(layer);
    this.refresh();
    const E = this.experts;
    const out: Heatmap = { layer, experts: E, stepStarts: [], stepEnds: [], mean: [], max: [], idealLoad: this.idealLoad };
    if (!this.loads || this.loads.rows === 0) return out;
    const [r0, r1] = this.rowRange(opts.fromStep, opts.toStep);
    const n = r1 - r0;
    if (n === 0) return out;
    const width = Math.ceil(n / Math.max(1, opts.maxColumns));
    const cols = Math.ceil(n / width);
    const mean = new Array<number>(E * cols);
    const max = new Array<number>(E * cols);
    if (width === 1) {
      // one column per step: read the layer's slice of each row once
      this.loads.forEachLayerRow(layer, r0, r1, (r, step, loadE) => {
        out.stepStarts.push(step);
        out.stepEnds.push(step);
        for (let e = 0; e < E; e++) mean[e * cols + r - r0] = max[e * cols + r - r0] = loadE[e]!;
      });
    } else {
      for (let c = 0; c < cols; c++) {
        const a = r0 + c * width;
        const b = Math.min(r1, a + width);
        const agg = newAgg(E);
        this.summary!.aggregate(layer, a, b, agg);
        out.stepStarts.push(this.loads.stepAtRow(a));
        out.stepEnds.push(this.loads.stepAtRow(b - 1));
        for (let e = 0; e < E; e++) {
          mean[e * cols + c] = agg.count > 0 ? agg.sum[e]! / agg.count : NaN;
          max[e * cols + c] = agg.count > 0 ? agg.max[e]! : NaN;
        }
      }
    }
    out.mean = mean;
    out.max = max;
    return out;
  }

  loadRows(fromStep: number, toStep: number): Float32Array[] {
    if (!(toStep >= fromStep)) throw invalid(`step range ${fromStep}–${toStep} is empty`);
    if (toStep - fromStep + 1 > MAX_LOAD_ROWS) throw invalid(`at most ${MAX_LOAD_ROWS} rows at a time (asked for ${toStep - fromStep + 1}); use heatmap() for wide ranges`);
    this.refresh();
    const cells = this.layers * this.experts;
    const rows: Float32Array[] = Array.from({ length: toStep - fromStep + 1 }, () => new Float32Array(cells).fill(NaN));
    if (!this.loads) return rows;
    const [r0, r1] = this.rowRange(fromStep, toStep);
    for (let r = r0; r < r1; r++) {
      const row = this.loads.readRow(r);
      rows[row.step - fromStep] = row.loadsLE;
    }
    return rows;
  }

  loadsAt(step?: number): CommandResponses['getLoadsAt'] {
    this.refresh();
    const base = { layers: this.layers, experts: this.experts, idealLoad: this.idealLoad };
    const r = !this.loads ? -1 : step === undefined ? this.loads.rows - 1 : this.loads.rowAtOrBefore(step);
    // no loads yet: step 0 and zeros, so a view can draw an empty grid of the right shape
    if (r < 0) return { ...base, step: 0, loadsLE: new Array<number>(this.layers * this.experts).fill(0) };
    const row = this.loads!.readRow(r);
    const out: CommandResponses['getLoadsAt'] = { ...base, step: row.step, loadsLE: Array.from(row.loadsLE) };
    // gate mass lives in steps.jsonl: read for the latest step only (one tail read, no scan)
    if (r === this.loads!.rows - 1) {
      const last = readLastRecord(join(this.dir, FILES.steps)).record;
      const mass = last?.gateMassLE;
      if (last?.step === row.step && Array.isArray(mass) && mass.length === this.layers * this.experts) out.gateMassLE = mass as number[];
    }
    return out;
  }

  expert(layer: number, expert: number, maxPoints: number): CommandResponses['getExpert'] {
    this.checkLayer(layer);
    if (!Number.isInteger(expert) || expert < 0 || expert >= this.experts) throw invalid(`expert ${expert} is out of range (the run has ${this.experts} experts)`);
    this.refresh();
    const steps: number[] = [];
    const share: number[] = [];
    let over = 0;
    let under = 0;
    let overMax = 0;
    let underMax = 0;
    if (this.loads) {
      const header = this.loads.header;
      this.loads.forEachLayerRow(layer, 0, this.loads.rows, (_r, step, loadE) => {
        let sum = 0;
        for (let e = 0; e < loadE.length; e++) sum += loadE[e]!;
        const load = loadE[expert]!;
        if (Number.isNaN(load)) return;
        // above / below the ideal k·T/E (from the loads header, else this step's own mean)
        const ideal = header.idealLoad || sum / loadE.length;
        over = load > ideal ? over + 1 : 0;
        under = load < ideal ? under + 1 : 0;
        overMax = Math.max(overMax, over);
        underMax = Math.max(underMax, under);
        steps.push(step);
        share.push(sum > 0 ? load / sum : 0);
      });
    }
    const last = readLastRecord(join(this.dir, FILES.topTokens)).record as { tokens?: Array<Array<Array<[number | string, number]>>> } | null;
    const topTokens = last?.tokens?.[layer]?.[expert] ?? [];
    const ds = bucketMeans(steps, share, maxPoints);
    return { steps: ds.steps, share: ds.values, idealShare: 1 / this.experts, overStreakMax: overMax, underStreakMax: underMax, topTokens };
  }

  lastRecords(): { step: Record<string, unknown> | null; eval: Record<string, unknown> | null } {
    return { step: readLastRecord(this.steps.path).record, eval: readLastRecord(join(this.dir, FILES.eval)).record };
  }

  listCheckpoints(): CheckpointInfo[] {
    return listCheckpointFiles(this.dir, []);
  }

  async readCheckpoint(step: number): Promise<CheckpointData> {
    try {
      return await readCheckpointFile(this.dir, step);
    } catch (err) {
      throw notFound(`run ${this.runId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  exportSeries(series: ExportSeries, format: 'csv' | 'json'): { filename: string; mime: string; content: string } {
    this.refresh();
    const parts: string[] = [];
    let bytes = 0;
    for (const chunk of this.exportChunks(series, format)) {
      bytes += chunk.length;
      if (bytes > 256 << 20) throw invalid(`the ${series} series of run ${this.runId} is too large to export in one piece; use \`loadscope runs export\``);
      parts.push(chunk);
    }
    return { filename: `${this.runId}-${series}.${format}`, mime: format === 'csv' ? 'text/csv' : 'application/json', content: parts.join('') };
  }

  /** The export as a stream of text chunks (the CLI writes them to a file without holding it all). */
  exportChunks(series: ExportSeries, format: 'csv' | 'json'): Generator<string> {
    return exportChunks({ dir: this.dir, loads: this.loads, layers: this.layers, experts: this.experts, idealLoad: this.idealLoad, lastStep: this.lastStep }, series, format);
  }

  close(): void {
    this.loads?.close();
    this.summary?.close();
    this.steps.close();
    this.evals.close();
  }
}

const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Mean of each of at most maxPoints equal buckets, labelled with the bucket's first step. */
function bucketMeans(steps: number[], values: number[], maxPoints: number): { steps: number[]; values: number[] } {
  const n = steps.length;
  if (n <= maxPoints) return { steps, values };
  const width = Math.ceil(n / maxPoints);
  const outS: number[] = [];
  const outV: number[] = [];
  for (let a = 0; a < n; a += width) {
    const b = Math.min(n, a + width);
    let s = 0;
    for (let i = a; i < b; i++) s += values[i]!;
    outS.push(steps[a]!);
    outV.push(s / (b - a));
  }
  return { steps: outS, values: outV };
}
