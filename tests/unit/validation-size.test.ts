// The held-out size rule: the sampling floor of MaxVio_global against a seeded simulation of ideally balanced
// top-k routing, the auto size on the presets, and the CLI flags for validation, warm-up, shape and layout.
import { describe, expect, it } from 'vitest';
import { autoValTokens, finalEvalBatches, samplingFloor } from '../../src/shared/validation-size';
import { resolveRunConfig } from '../../src/shared/run-config';
import { PRESETS } from '../../src/shared/presets';
import { configFromFlags } from '../../src/cli/commands/train';
import { prng } from './strategies/fixtures';

/** MaxVio of N tokens each taking k distinct uniformly random experts of E, averaged over reps (seeded). */
function simulatedFloor(E: number, k: number, N: number, reps: number, seed: number): number {
  const rand = prng(seed);
  let sum = 0;
  for (let r = 0; r < reps; r++) {
    const load = new Float64Array(E);
    for (let t = 0; t < N; t++) {
      const a = Math.floor(rand() * E);
      let b = Math.floor(rand() * (E - 1));
      if (b >= a) b++;
      load[a]!++;
      if (k === 2) load[b]!++;
    }
    const ideal = (k * N) / E;
    sum += (Math.max(...load) - ideal) / ideal;
  }
  return sum / reps;
}

describe('validation size', () => {
  it('the floor formula tracks a simulation of perfectly balanced routing within 15 %', () => {
    for (const [E, N] of [[8, 2048], [8, 16384], [16, 4096]] as const) {
      const sim = simulatedFloor(E, 2, N, 60, E * N);
      expect(Math.abs(samplingFloor(E, 2, N) - sim) / sim, `E=${E} N=${N} sim ${sim}`).toBeLessThan(0.15);
    }
    // the old 4 tiny batches (2,048 tokens) sit on a floor of ≈ 0.06: balance below that cannot show
    expect(samplingFloor(8, 2, 2048)).toBeGreaterThan(0.05);
  });

  it('auto size puts every preset below 0.01 (tiny 86,6xx tokens = 170 batches)', () => {
    for (const p of Object.values(PRESETS)) {
      const n = finalEvalBatches({ valTokens: 0, model: p });
      expect(samplingFloor(p.experts, p.topK, n * p.batch * p.ctx)).toBeLessThan(0.01);
    }
    expect(autoValTokens(8, 2)).toBeGreaterThan(80_000);
    expect(finalEvalBatches({ valTokens: 0, model: PRESETS.tiny })).toBe(Math.ceil(autoValTokens(8, 2) / 512));
    expect(finalEvalBatches({ valTokens: 5000, model: PRESETS.tiny })).toBe(10);
  });
});

describe('train CLI flags', () => {
  it('set eval batches, held-out tokens, warm-up, gate renormalisation, model shape and the device layout', () => {
    const input = configFromFlags({
      'eval-batches': '16', 'val-tokens': '100000', warmup: '5', 'gate-norm': 'on', experts: '16', 'top-k': '4', layers: '3',
      devices: '2', placement: '0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1',
    });
    const r = resolveRunConfig(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.config;
    expect([c.evalBatches, c.valTokens, c.warmupSteps, c.gateNorm]).toEqual([16, 100000, 5, 'on']);
    expect([c.model.experts, c.model.topK, c.model.layers, c.model.dModel]).toEqual([16, 4, 3, 64]);
    expect(c.expertParallel.devices).toBe(2);
    expect(c.expertParallel.placement).toHaveLength(16);
    // one gate for every strategy unless chosen: loss-free no longer switches to sigmoid by itself
    const lf = resolveRunConfig({ strategy: 'loss-free' });
    expect(lf.ok && lf.config.scoreFn).toBe('softmax');
  });
});
