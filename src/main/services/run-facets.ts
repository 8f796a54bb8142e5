// What the runs list filters, sorts and shows beyond the headline metrics: each run's hyper-parameters,
// notes, sweep and parent (lineage), read from meta.json, config.json and notes.md without opening the run.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunFacets } from '../../shared/run-facets';
import type { RunStoreApi } from '../store/types';
import { readJsonFile } from '../store/fs-util';
import { readNotes, writeNotes } from '../store/notes';

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const scalar = (x: unknown): x is number | string | boolean => typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean';

export class RunFacetsService {
  constructor(private readonly store: RunStoreApi) {}

  list(): RunFacets[] {
    const root = this.store.root;
    if (!existsSync(root)) return [];
    const out: RunFacets[] = [];
    for (const runId of readdirSync(root)) {
      if (runId.startsWith('.')) continue;
      const dir = join(root, runId);
      const meta = readJsonFile(join(dir, 'meta.json'));
      const cfg = readJsonFile(join(dir, 'config.json'));
      if (!meta.ok && !cfg.ok) continue;
      const m = meta.ok && isObj(meta.value) ? meta.value : {};
      const c = cfg.ok && isObj(cfg.value) ? cfg.value : {};
      out.push({ runId, notes: readNotes(dir), sweep: isObj(m.sweep) && typeof m.sweep.id === 'string' ? { id: m.sweep.id, cell: String(m.sweep.cell ?? '') } : null, parent: isObj(m.parent) && typeof m.parent.runId === 'string' ? { runId: m.parent.runId, step: Number(m.parent.step) } : null, params: paramsOf(c) });
    }
    return out;
  }

  async setNotes(runId: string, notes: string): Promise<void> {
    // opening checks the id and that the run exists (not-found otherwise)
    (await this.store.open(runId)).close();
    writeNotes(join(this.store.root, runId), notes);
  }
}

/** Flat hyper-parameters: top-level scalars, model.* and the strategy's options as option.* */
function paramsOf(c: Json): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(c)) if (scalar(v) && k !== 'name') out[k] = v;
  if (isObj(c.model)) for (const [k, v] of Object.entries(c.model)) if (scalar(v)) out[`model.${k}`] = v;
  if (isObj(c.strategyOptions)) for (const [k, v] of Object.entries(c.strategyOptions)) if (scalar(v)) out[`option.${k}`] = v;
  if (isObj(c.data) && typeof c.data.kind === 'string') out.data = c.data.kind === 'file' ? `file ${String(c.data.path)}` : c.data.kind;
  return out;
}
