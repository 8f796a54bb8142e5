// External runs (meta.source "external": written by another trainer): lenient validation of what they declare.
import { resolveRunConfig, type RunConfig } from '../../shared/run-config';

/** What an external run may declare (Loadscope's own engine has tighter ranges). */
export const EXTERNAL_LIMITS = { maxLayers: 256, maxExperts: 1024, maxTopK: 32 } as const;

export interface ExternalInfo {
  framework: string;
  /** config fields the trainer did not declare: shown as unknown, never as defaults */
  unknown: string[];
  /** tokens of one optimizer step, all micro-batches and ranks (null = unknown) */
  tokensPerStep: number | null;
  /** whether loads count assignments before or after capacity dropping (null = not declared) */
  loadsCounted: 'before-drop' | 'after-drop' | null;
}

export const isExternalMeta = (raw: unknown): boolean => typeof raw === 'object' && raw !== null && (raw as { source?: unknown }).source === 'external';

const posInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;

/**
 * An external config: the model's layers / experts / top-k checked against EXTERNAL_LIMITS (any vocabulary,
 * context, width), everything else undeclared listed in `unknown`. The RunConfig carries the declared shape
 * and zeros / placeholders where nothing was declared; views read `unknown` before showing a field.
 */
export function readExternalConfig(raw: Record<string, unknown>, framework: string, problems: string[], shape?: { layers: number; experts: number }): { config: RunConfig; external: ExternalInfo } {
  const base = resolveRunConfig({});
  if (!base.ok) throw new Error('default run config does not resolve');
  const model = (typeof raw.model === 'object' && raw.model !== null ? raw.model : {}) as Record<string, unknown>;
  const unknown: string[] = [];
  const declared = (key: string, limit: number): number => {
    const v = model[key];
    if (v === undefined) {
      unknown.push(`model.${key}`);
      return 0;
    }
    if (!posInt(v) || v > limit) {
      problems.push(`config.json: model.${key} ${JSON.stringify(v)} is outside 1–${limit}`);
      return 0;
    }
    return v;
  };
  const layers = shape?.layers ?? declared('layers', EXTERNAL_LIMITS.maxLayers);
  const experts = shape?.experts ?? declared('experts', EXTERNAL_LIMITS.maxExperts);
  if (shape) {
    if (shape.layers > EXTERNAL_LIMITS.maxLayers) problems.push(`loads.bin: ${shape.layers} layers is more than ${EXTERNAL_LIMITS.maxLayers}`);
    if (shape.experts > EXTERNAL_LIMITS.maxExperts) problems.push(`loads.bin: ${shape.experts} experts is more than ${EXTERNAL_LIMITS.maxExperts}`);
  }
  const topK = declared('topK', EXTERNAL_LIMITS.maxTopK);
  const shapeOf = { ...base.config.model } as Record<string, number>;
  for (const k of Object.keys(shapeOf)) {
    if (k === 'layers' || k === 'experts' || k === 'topK') continue;
    if (typeof model[k] === 'number') shapeOf[k] = model[k];
    else {
      shapeOf[k] = 0;
      unknown.push(`model.${k}`);
    }
  }
  Object.assign(shapeOf, { layers, experts, topK });
  const config = { ...base.config, preset: 'custom', model: shapeOf } as unknown as Record<string, unknown>;
  for (const k of Object.keys(base.config)) {
    if (k === 'model' || k === 'preset') continue;
    if (k in raw && typeof raw[k] === typeof config[k]) config[k] = raw[k];
    else unknown.push(k);
  }
  if (!('steps' in raw)) config.steps = 0;
  const tps = raw.tokensPerStep;
  const counted = raw.loadsCounted === 'before-drop' || raw.loadsCounted === 'after-drop' ? raw.loadsCounted : null;
  return {
    config: config as unknown as RunConfig,
    external: { framework, unknown, tokensPerStep: posInt(tps) ? tps : null, loadsCounted: counted },
  };
}
