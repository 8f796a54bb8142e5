// Real short training runs on the sparse dispatch path with the fused expert kernel on (wasm): it is the path
// taken, seeds are deterministic, a checkpoint resumes exactly (also with LOADSCOPE_NATIVE=0), and the first
// steps' losses match the unfused TF.js path on wasm and cpu.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { fusedExpertsStats, nativeExperts } from '../../../src/main/engine/native/experts';
import { Trainer } from '../../../src/main/engine/train/trainer';
import { MICRO, config, useBackend } from './helpers';

const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 60_000 }) };
// E/k = 4, as at the tiny preset; capacity factor 1 drops the slots over each expert's share
const model = { ...MICRO, experts: 8, topK: 2 };
const run = (extra: object = {}) =>
  config({ preset: 'custom', model, steps: 12, warmupSteps: 2, lr: 1e-2, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'wasm', dispatch: 'sparse', composeCapacity: 1, ...extra });

let droppedSlots = 0;
const losses = async (tr: Trainer, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const { report } = await tr.trainStep();
    out.push(report.loss);
    droppedSlots += report.dropped;
  }
  return out;
};

beforeAll(async () => {
  await useBackend('wasm');
});

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE;
});

describe.skipIf(!nativeExperts())('training on the fused sparse experts', () => {
  it('runs the fused kernel every layer and step, without leaking tensors; same seed gives identical losses', async () => {
    const before = fusedExpertsStats();
    const a = new Trainer(run({ seed: 5 }), data);
    const la = await losses(a, 2);
    const warm = tf.memory().numTensors;
    la.push(...(await losses(a, 2)));
    expect(tf.memory().numTensors).toBe(warm);
    const after = fusedExpertsStats();
    expect(after.forward - before.forward).toBeGreaterThanOrEqual(4 * MICRO.layers);
    expect(after.backward - before.backward).toBe(4 * MICRO.layers);
    const b = new Trainer(run({ seed: 5 }), data);
    expect(await losses(b, 4)).toEqual(la);
    for (const t of [a, b]) t.dispose();
    expect(droppedSlots).toBeGreaterThan(0); // capacity-dropped slots were part of it
  });

  it.each(['on', 'off'] as const)('6 steps + checkpoint + resume 6 steps = 12 uninterrupted steps, exactly (kernel %s)', async (mode) => {
    if (mode === 'off') process.env.LOADSCOPE_NATIVE = '0';
    const n0 = fusedExpertsStats().backward;
    const full = new Trainer(run({ strategy: 'loss-free' }), data);
    const expected = await losses(full, 12);
    full.dispose();
    const first = new Trainer(run({ strategy: 'loss-free' }), data);
    const head = await losses(first, 6);
    const cp = await first.exportCheckpoint();
    first.dispose();
    const resumed = new Trainer(run({ strategy: 'loss-free' }), data);
    resumed.importCheckpoint(cp);
    const tail = await losses(resumed, 6);
    resumed.dispose();
    expect([...head, ...tail]).toEqual(expected);
    expect(fusedExpertsStats().backward > n0).toBe(mode === 'on');
  });

  it.each(['wasm', 'cpu'] as const)('the first steps have the same losses fused and unfused on %s (float32 rounding apart)', async (backend) => {
    await useBackend(backend);
    const n0 = fusedExpertsStats().backward;
    const fused = new Trainer(run({ seed: 3, backend }), data);
    const lf = await losses(fused, 3);
    fused.dispose();
    expect(fusedExpertsStats().backward - n0).toBe(3 * MICRO.layers);
    process.env.LOADSCOPE_NATIVE = '0';
    const unfused = new Trainer(run({ seed: 3, backend }), data);
    const lu = await losses(unfused, 3);
    unfused.dispose();
    await useBackend('wasm');
    // step 1 is the forward pass alone; steps 2 and 3 follow updates from the two paths' gradients
    lf.forEach((l, i) => expect(Math.abs(l - lu[i]!), `step ${i + 1}: ${l} vs ${lu[i]}`).toBeLessThan(1e-4));
  });
});
