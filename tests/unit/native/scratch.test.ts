// The forward→backward scratch pool of the native ops (native/scratch.ts): reuse rules, and real training steps
// whose losses do not change when every reused array starts as NaN (the kernels write all they read).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { fusedExpertsStats } from '../../../src/main/engine/native/experts';
import { fillFreeScratch, giveScratch, takeScratch } from '../../../src/main/engine/native/scratch';
import { Trainer } from '../../../src/main/engine/train/trainer';
import { MICRO, config, useBackend } from '../engine/helpers';
import { ensureAddon } from './addon';

const addon = ensureAddon();
const skip = !addon.path || process.env.LOADSCOPE_NATIVE === '0';
const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 40_000 }) };

describe('scratch pool', () => {
  it('reuses the smallest free array that fits, as a view of exactly n floats; a second give-back throws', () => {
    const a = takeScratch(1000);
    const b = takeScratch(300);
    giveScratch(a);
    giveScratch(b);
    const c = takeScratch(200); // b's array (300 floats) is the smallest that fits
    expect(c.length).toBe(200);
    expect(c.buffer).toBe(b.buffer);
    expect(takeScratch(900).buffer).toBe(a.buffer);
    expect(takeScratch(2000).buffer).not.toBe(a.buffer); // nothing that large is free: a new array
    giveScratch(c);
    expect(() => giveScratch(c)).toThrow(/given back twice/);
  });
});

describe.skipIf(skip)('scratch in training (wasm, fused experts and attention)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('same seed → same losses when every free scratch array is NaN before each step; no tensor leaks', async () => {
    const run = async (poison: boolean) => {
      const cfg = config({ preset: 'custom', model: MICRO, steps: 5, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'wasm', seed: 8, dispatch: 'sparse' });
      const tr = new Trainer(cfg, data);
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      let poisoned = 0;
      try {
        for (let i = 0; i < 5; i++) {
          if (poison) poisoned += fillFreeScratch(NaN);
          losses.push((await tr.trainStep()).report.loss);
        }
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        tr.dispose();
      }
      return { losses, poisoned };
    };
    const runs = fusedExpertsStats().backward;
    const clean = await run(false);
    const poisoned = await run(true);
    expect(fusedExpertsStats().backward).toBeGreaterThan(runs); // the fused expert kernel ran
    expect(poisoned.poisoned).toBeGreaterThan(0); // arrays were reused
    expect(poisoned.losses).toEqual(clean.losses);
    expect(clean.losses.every(Number.isFinite)).toBe(true);
  });
});
