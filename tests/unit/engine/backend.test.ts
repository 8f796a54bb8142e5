// Backend selection: auto falls through the optional native packages to wasm and says why; explicit choices.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/main/engine/backend';
import { findSwiftShaderIcd } from '../../../src/main/engine/webgpu';

// Dawn reads VK_ICD_FILENAMES once, when first loaded: point it at SwiftShader (a software adapter) up front
const icd = findSwiftShaderIcd();
if (icd && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = icd;
delete process.env.LOADSCOPE_WEBGPU_SOFTWARE;

const installed = (pkg: string) => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
const noNative = !installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu');

describe('backend selection', () => {
  it.skipIf(!noNative)('auto skips the missing native packages (with notes) and picks wasm (skipped where tfjs-node is installed)', async () => {
    const info = await selectBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    // the OpenBLAS matmul kernels are swapped in when the addon was built, otherwise a note says why not
    expect(info.device).toMatch(/^wasm( SIMD)?, 1 thread( \+ OpenBLAS matmul)?$/);
    expect(info.notes[0]).toBe('@tensorflow/tfjs-node-gpu: not installed');
    // auto never trains on a software WebGPU adapter (SwiftShader here), and says so
    expect(info.notes[1]).toMatch(icd ? /^webgpu: only a software adapter \(google swiftshader/ : /^webgpu: /);
    expect(info.notes[2]).toBe('@tensorflow/tfjs-node: not installed');
    if (info.device.endsWith('OpenBLAS matmul')) expect(info.notes).toHaveLength(3);
    else expect(info.notes[3]).toMatch(/^native matmul: /);
  });

  it.skipIf(!noNative)('an explicit tensorflow choice fails with the reasons (skipped where tfjs-node is installed)', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow('backend "tensorflow" could not start: @tensorflow/tfjs-node-gpu: not installed; @tensorflow/tfjs-node: not installed');
  });

  it.skipIf(!icd)('an explicit webgpu choice refuses the software adapter without LOADSCOPE_WEBGPU_SOFTWARE=1 (skipped without SwiftShader)', async () => {
    await expect(selectBackend('webgpu')).rejects.toThrow(/backend "webgpu" cannot run here: webgpu: only a software adapter .*LOADSCOPE_WEBGPU_SOFTWARE=1/);
  });

  it('cpu and wasm can be forced', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});
