// Compare's warnings: runs that differ in gate, data, preset, shape, steps or validation set are named; seeds are not.
import { describe, expect, it } from 'vitest';
import { comparabilityWarnings } from '../../src/shared/comparability';
import { resolveRunConfig, type RunConfig, type RunConfigInput } from '../../src/shared/run-config';

const cfg = (input: RunConfigInput): RunConfig => {
  const r = resolveRunConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

describe('comparability warnings', () => {
  it('same setup, different strategies and seeds: no warning (loss-free now gets the same softmax gate)', () => {
    const runs = [
      { name: 'a', config: cfg({ strategy: 'none', seed: 1 }) },
      { name: 'b', config: cfg({ strategy: 'loss-free', seed: 2 }) },
      { name: 'c', config: cfg({ strategy: 'bip', strategyOptions: { clip: false } }) },
    ];
    expect(comparabilityWarnings(runs)).toEqual([]);
  });

  it('names each differing field with every run’s value', () => {
    const runs = [
      { name: 'a', config: cfg({ strategy: 'none' }) },
      { name: 'b', config: cfg({ strategy: 'loss-free', scoreFn: 'sigmoid', data: { kind: 'corpus' }, steps: 1200, evalBatches: 8, preset: 'small' }) },
    ];
    const w = comparabilityWarnings(runs);
    expect(w.map((x) => x.field)).toEqual(['gate', 'data', 'preset', 'model', 'steps', 'validation']);
    expect(w[0]!.message).toBe('gate function differs: a: softmax; b: sigmoid');
    expect(w[4]!.message).toBe('steps differs: a: 300; b: 1200');
    expect(comparabilityWarnings(runs.slice(0, 1))).toEqual([]);
  });
});
