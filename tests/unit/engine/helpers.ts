// Shared setup for engine tests: a resolved tiny config on a chosen backend, and a small in-memory text.
import { selectBackend } from '../../../src/main/engine/backend';
import { resolveRunConfig, type RunConfig, type RunConfigInput } from '../../../src/shared/run-config';

/** A resolved config (throws with the field errors if the input is bad). */
export function config(input: RunConfigInput): RunConfig {
  const r = resolveRunConfig(input);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return r.config;
}

/** Micro shape: 2 layers, 4 experts, top-2, 16 tokens × 4 sequences: a step takes milliseconds. */
export const MICRO = { ctx: 16, dModel: 16, heads: 2, layers: 2, experts: 4, topK: 2, expertHidden: 16, batch: 4 } as const;

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await selectBackend(name);
}
