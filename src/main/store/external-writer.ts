// Writes an external run folder (meta source "external") from loads that already exist: `loadscope import`.
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { maxVio } from '../../shared/metrics';
import { DTYPE_FLOAT32, FILES, FORMAT_VERSION, isValidRunId } from './format';
import { acquireLock, releaseLock, writeAllSync, writeFileAtomicSync } from './fs-util';
import { LoadsAppender } from './loads-writer';
import { EXTERNAL_LIMITS } from './external';

export interface ExternalRunSpec {
  layers: number;
  experts: number;
  topK: number;
  /** tokens of one optimizer step (all micro-batches and ranks); 0 = unknown */
  tokensPerStep: number;
  name: string;
  framework: string;
  counted: 'before-drop' | 'after-drop';
}

export class ExternalRunWriter {
  private loads: LoadsAppender;
  private stepsFd: number;
  private lastStep = 0;
  private vioSum = 0;
  private vioMax = -Infinity;
  private vioN = 0;
  readonly ideal: number;

  constructor(
    readonly dir: string,
    private spec: ExternalRunSpec,
  ) {
    const problem = checkShape(spec);
    if (problem) throw new Error(problem);
    if (existsSync(dir)) throw new Error(`${dir} already exists; choose another run id`);
    mkdirSync(dir, { recursive: true });
    // exclusive create, like every writer (docs/run-format.md)
    if (!acquireLock(dir)) throw new Error(`${dir} is being written by another process`);
    this.ideal = spec.tokensPerStep > 0 ? (spec.tokensPerStep * spec.topK) / spec.experts : 0;
    const config = { model: { layers: spec.layers, experts: spec.experts, topK: spec.topK }, tokensPerStep: spec.tokensPerStep || null, loadsCounted: spec.counted };
    writeFileAtomicSync(join(dir, FILES.config), JSON.stringify(config, null, 1) + '\n');
    this.writeMeta('running');
    this.loads = LoadsAppender.create(dir, { layers: spec.layers, experts: spec.experts, dtype: DTYPE_FLOAT32, idealLoad: this.ideal });
    this.stepsFd = openSync(join(dir, FILES.steps), 'a');
  }

  private writeMeta(status: string): void {
    const runId = this.dir.split(/[\\/]/).pop()!;
    const meta = { runId, name: this.spec.name, createdAt: new Date().toISOString(), tags: [], status, backend: null, failure: null, summary: null, parent: null, formatVersion: FORMAT_VERSION, source: 'external', framework: this.spec.framework };
    writeFileAtomicSync(join(this.dir, FILES.meta), JSON.stringify(meta, null, 1) + '\n');
  }

  /** One step's loads, layer-major L×E; MaxVio per layer from the declared ideal (else the layer's mean). */
  append(step: number, loadsLE: Float32Array): void {
    if (!(Number.isInteger(step) && step > this.lastStep)) throw new Error(`step ${step} is not after step ${this.lastStep} (steps must grow)`);
    const { layers: L, experts: E } = this.spec;
    const maxVioL: number[] = [];
    for (let l = 0; l < L; l++) {
      const row = loadsLE.subarray(l * E, (l + 1) * E);
      let ideal = this.ideal;
      if (!(ideal > 0)) ideal = row.reduce((a, b) => a + b, 0) / E;
      maxVioL.push(maxVio(row, ideal));
    }
    this.loads.append(step, loadsLE);
    const mean = maxVioL.reduce((a, b) => a + b, 0) / L;
    // running AvgMaxVio / SupMaxVio on every line: the runs list and getRun read only the last one
    this.vioSum += mean;
    this.vioMax = Math.max(this.vioMax, mean);
    this.vioN++;
    writeAllSync(this.stepsFd, JSON.stringify({ step, maxVio: mean, avgMaxVio: this.vioSum / this.vioN, supMaxVio: this.vioMax, maxVioL }) + '\n');
    this.lastStep = step;
  }

  close(): void {
    this.loads.sync();
    this.loads.close();
    closeSync(this.stepsFd);
    this.writeMeta('completed');
    releaseLock(this.dir);
  }
}

function checkShape(s: ExternalRunSpec): string | null {
  const { maxLayers, maxExperts, maxTopK } = EXTERNAL_LIMITS;
  if (!(Number.isInteger(s.layers) && s.layers >= 1 && s.layers <= maxLayers)) return `layers ${s.layers}: external runs have 1 to ${maxLayers} layers`;
  if (!(Number.isInteger(s.experts) && s.experts >= 2 && s.experts <= maxExperts)) return `experts ${s.experts}: external runs have 2 to ${maxExperts} experts`;
  if (!(Number.isInteger(s.topK) && s.topK >= 1 && s.topK <= Math.min(maxTopK, s.experts))) return `top-k ${s.topK}: must be 1 to ${Math.min(maxTopK, s.experts)}`;
  return null;
}

export { isValidRunId };
