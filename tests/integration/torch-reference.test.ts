// The PyTorch reference trainer of the bench (bench/torch_reference.py) in quick mode: it runs, trains the same
// model as Loadscope (same parameter count per preset) from a near-uniform start, and prints the JSON the bench
// reads. No timing is asserted: speed ratios live in `npm run bench -- --only torch`.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython, runTorchReference, TORCH_SCRIPT } from '../../bench/torch-pairs';
import { MoEModel } from '../../src/main/engine/model/model';
import { Rng } from '../../src/main/engine/rng';
import { PRESETS } from '../../src/shared/presets';
import { spawnSync } from 'node:child_process';

const found = findTorchPython();

function loadscopeParams(preset: 'tiny' | 'small'): number {
  const model = new MoEModel(PRESETS[preset], 'softmax', new Rng(1));
  try {
    return model.parameterCount();
  } finally {
    model.dispose();
  }
}

describe.skipIf(!found.python)(`PyTorch reference trainer (${found.python ? found.detail : `skipped: ${found.detail}`})`, () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('trains tiny for 3 steps: the same parameter count as Loadscope, loss from ≈ ln 256 and falling, JSON shape', () => {
    const r = runTorchReference(found.python!, 'tiny', 3, 0);
    expect(r.preset).toBe('tiny');
    expect(r.steps).toBe(3);
    expect(r.threads).toBe(1);
    expect(r.params).toBe(loadscopeParams('tiny'));
    expect(r.losses).toHaveLength(3);
    // weights of std 0.02 give near-uniform logits over 256 bytes at the first step
    expect(Math.abs(r.losses[0]! - Math.log(256))).toBeLessThan(0.05);
    expect(r.losses[2]!).toBeLessThan(r.losses[0]!);
    expect(r.tokensPerSec).toBeGreaterThan(0);
    expect(r.stepMs).toBeCloseTo((8 * 64 * 1000) / r.tokensPerSec, 6);
  }, 120_000);

  it('small has the same parameter count as Loadscope (one step)', () => {
    const r = runTorchReference(found.python!, 'small', 1, 0);
    expect(r.params).toBe(loadscopeParams('small'));
    expect(r.losses).toHaveLength(1);
  }, 120_000);

  it('a bad flag is one clear line and a non-zero exit', () => {
    const r = spawnSync(found.python!, [TORCH_SCRIPT, '--preset', 'tiny', '--steps', '0'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--steps must be/);
  });
});
