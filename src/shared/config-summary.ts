// A run's configuration as labelled lines (run view panel, `loadscope runs show`): what a researcher needs to
// reproduce or compare a run, without reading config.json.
import type { RunConfig } from './run-config';
import type { BackendInfo } from './reports';

export interface ConfigLine {
  label: string;
  value: string;
}

const dataOf = (c: RunConfig) => (c.data.kind === 'file' ? `file ${c.data.path}` : c.data.kind === 'corpus' ? 'built-in text corpus' : 'synthetic');

/** Options shown as k=v, sorted so two runs line up. */
export function strategyOptionsText(c: RunConfig): string {
  const entries = Object.entries(c.strategyOptions).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(', ') : 'defaults';
}

export function configLines(c: RunConfig, backend: BackendInfo | null = null): ConfigLine[] {
  const m = c.model;
  return [
    { label: 'preset', value: `${c.preset}: ${m.layers} layers × ${m.experts} experts, top-${m.topK}, d ${m.dModel}, ${m.heads} heads, expert hidden ${m.expertHidden}, ctx ${m.ctx}, batch ${m.batch}` },
    { label: 'strategy', value: `${c.strategy} (${strategyOptionsText(c)}), gate ${c.scoreFn}${c.zLoss > 0 ? `, z-loss ${c.zLoss}` : ''}` },
    { label: 'optimiser', value: `lr ${c.lr}, warm-up ${c.warmupSteps} steps, min lr ×${c.minLrRatio}, weight decay ${c.weightDecay}, grad clip ${c.gradClip}${(c.microBatches ?? 1) > 1 ? `, ${c.microBatches} micro-batches per step` : ''}` },
    { label: 'data', value: `${dataOf(c)}, validation ${Math.round(c.validationFraction * 100)}%` },
    { label: 'seed', value: String(c.seed) },
    { label: 'schedule', value: `${c.steps} steps (eval every ${c.evalEvery || '-'}, checkpoint every ${c.checkpointEvery || '-'})` },
    { label: 'backend', value: backend ? `${backend.name} (${backend.device}), asked ${c.backend}` : `${c.backend} (not started)` },
    { label: 'dispatch', value: c.dispatch },
  ];
}
