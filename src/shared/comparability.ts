// What makes compared runs not comparable: differences in gate, data, model shape, steps or validation set.
// Why: the gate alone moves perplexity by several points on the built-in text (docs/strategies.md, Pitfalls), so
// a comparison that differs in it (or in data, shape, horizon or held-out set) says nothing about the strategies.
import type { RunConfig } from './run-config';

export interface ComparabilityWarning {
  field: 'gate' | 'data' | 'preset' | 'model' | 'steps' | 'validation' | 'seed';
  message: string;
}

type Named = { name: string; config: RunConfig };

const dataLabel = (c: RunConfig) => (c.data.kind === 'file' ? `file ${c.data.path}` : c.data.kind);
const gateLabel = (c: RunConfig) => `${c.scoreFn}${c.gateNorm && c.gateNorm !== 'auto' ? ` (renormalise ${c.gateNorm})` : ''}`;
const shapeLabel = (c: RunConfig) => {
  const m = c.model;
  return `${m.layers}L×${m.experts}E top-${m.topK} d${m.dModel} ctx${m.ctx} batch${m.batch}${(c.microBatches ?? 1) > 1 ? `×${c.microBatches} micro-batches` : ''}`;
};
const validationLabel = (c: RunConfig) => `${c.validationFraction} of the data, ${c.evalBatches} batches${c.valTokens ? `, final ${c.valTokens} tokens` : ''}`;

/** One warning per field on which the runs differ, naming each run's value. Seeds differing is expected and not warned. */
export function comparabilityWarnings(runs: readonly Named[]): ComparabilityWarning[] {
  if (runs.length < 2) return [];
  const out: ComparabilityWarning[] = [];
  const check = (field: ComparabilityWarning['field'], what: string, f: (c: RunConfig) => string) => {
    const values = runs.map((r) => f(r.config));
    if (new Set(values).size > 1) out.push({ field, message: `${what} differs: ${runs.map((r, i) => `${r.name}: ${values[i]}`).join('; ')}` });
  };
  check('gate', 'gate function', gateLabel);
  check('data', 'training data', dataLabel);
  check('preset', 'preset', (c) => c.preset);
  check('model', 'model shape', shapeLabel);
  check('steps', 'steps', (c) => String(c.steps));
  check('validation', 'validation set', validationLabel);
  return out;
}
