// meta.json and config.json of a run folder: reading with clear warnings, stand-ins when damaged.
import { join } from 'node:path';
import { resolveRunConfig, type RunConfig } from '../../shared/run-config';
import type { RunStatus } from '../../shared/reports';
import type { RunMeta } from './types';
import { FILES, FORMAT_VERSION } from './format';
import { readJsonFile, writeFileAtomic, writeFileAtomicSync } from './fs-util';

const STATUSES: RunStatus[] = ['created', 'running', 'paused', 'stopped', 'completed', 'failed'];

export function writeMeta(dir: string, meta: RunMeta): void {
  writeFileAtomicSync(join(dir, FILES.meta), JSON.stringify(meta, null, 1) + '\n');
}

export async function writeConfig(dir: string, config: RunConfig): Promise<void> {
  await writeFileAtomic(join(dir, FILES.config), JSON.stringify(config, null, 1) + '\n');
}

/** meta.json, or a stand-in (status 'failed', named after the folder) with the problem in `issues`. */
export function readMeta(dir: string, runId: string, issues: string[]): { meta: RunMeta; ok: boolean } {
  const r = readJsonFile(join(dir, FILES.meta));
  const fallback: RunMeta = {
    runId,
    name: runId,
    createdAt: '',
    tags: [],
    status: 'failed',
    backend: null,
    failure: null,
    summary: null,
    parent: null,
    formatVersion: FORMAT_VERSION,
  };
  if (!r.ok) {
    issues.push(`meta.json: ${r.error}; name, status and tags are unknown`);
    return { meta: { ...fallback, failure: `meta.json ${r.error}` }, ok: false };
  }
  const v = r.value as Partial<RunMeta> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    issues.push('meta.json: not a JSON object; name, status and tags are unknown');
    return { meta: fallback, ok: false };
  }
  const problems: string[] = [];
  const pick = <K extends keyof RunMeta>(key: K, ok: (x: unknown) => boolean): RunMeta[K] => {
    // a readable meta.json without a status (an external trainer's minimal one) is stopped, not failed
    if (v[key] === undefined) return key === 'status' ? ('stopped' as RunMeta[K]) : fallback[key];
    if (ok(v[key])) return v[key] as RunMeta[K];
    problems.push(`"${key}" is invalid`);
    return fallback[key];
  };
  const meta: RunMeta = {
    ...v,
    runId,
    name: pick('name', (x) => typeof x === 'string' && x.length > 0),
    createdAt: pick('createdAt', (x) => typeof x === 'string'),
    tags: pick('tags', (x) => Array.isArray(x) && x.every((t) => typeof t === 'string')),
    status: pick('status', (x) => STATUSES.includes(x as RunStatus)),
    backend: pick('backend', (x) => x === null || typeof x === 'object'),
    failure: pick('failure', (x) => x === null || typeof x === 'string'),
    summary: pick('summary', (x) => x === null || typeof x === 'object'),
    parent: pick('parent', (x) => x === null || (typeof x === 'object' && typeof (x as { runId?: unknown }).runId === 'string')),
    formatVersion: pick('formatVersion', (x) => typeof x === 'number'),
  };
  if (meta.formatVersion > FORMAT_VERSION) problems.push(`format version ${meta.formatVersion} is newer than this Loadscope (${FORMAT_VERSION})`);
  if (problems.length > 0) issues.push(`meta.json: ${problems.join(', ')}`);
  return { meta, ok: problems.length === 0 };
}

/**
 * config.json validated against the run-config schema. An external or damaged config becomes the default
 * config with whatever model fields are usable (and the loads file's shape), plus a warning.
 */
export function readConfig(dir: string, issues: string[], shape?: { layers: number; experts: number }): { config: RunConfig; ok: boolean } {
  const r = readJsonFile(join(dir, FILES.config));
  const base = resolveRunConfig({});
  if (!base.ok) throw new Error('default run config does not resolve');
  let raw: Record<string, unknown> = {};
  if (!r.ok) issues.push(`config.json: ${r.error}; showing a default config`);
  else if (typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) issues.push('config.json: not a JSON object; showing a default config');
  else {
    raw = r.value as Record<string, unknown>;
    const res = resolveRunConfig(raw);
    if (res.ok) return { config: res.config, ok: true };
    issues.push(`config.json: ${res.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
  // lenient stand-in: keep the plain fields that are there, so the charts still get the model's shape
  const model = { ...base.config.model } as Record<string, number>;
  const rawModel = (raw.model ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(model)) if (typeof rawModel[k] === 'number' && rawModel[k] > 0) model[k] = rawModel[k];
  if (shape) {
    model.layers = shape.layers;
    model.experts = shape.experts;
  }
  const config = { ...base.config } as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) if (k !== 'model' && k in config && typeof v === typeof config[k]) config[k] = v;
  config.model = model;
  return { config: config as unknown as RunConfig, ok: false };
}
