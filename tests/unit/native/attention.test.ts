// The fused native causal attention (native/attention.c via native/attention.ts) on cpu and wasm: a float64
// reference with finite-difference gradients, the same values and gradients as the TF.js ops, causality,
// no tensor leaks, and bad buffers throwing instead of touching memory.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { causalAttention, causalAttentionUnfused, fusedAttentionEnabled } from '../../../src/main/engine/model/attention';
import { nativeAttention, nativeCausalAttention } from '../../../src/main/engine/native/attention';
import { expectSameAsUnfused, useBackend } from '../engine/helpers';
import { ensureAddon } from './addon';

const addon = ensureAddon();
// LOADSCOPE_NATIVE=0 turns the native paths off, this one included: nothing here to test then
const nativeOff = process.env.LOADSCOPE_NATIVE === '0';

/** The additive causal mask of a ctx-long model, sliced to S like model.ts does when S < ctx. */
function mask(ctx: number, S: number): tf.Tensor2D {
  const m = new Float32Array(ctx * ctx);
  for (let i = 0; i < ctx; i++) for (let j = i + 1; j < ctx; j++) m[i * ctx + j] = -1e9;
  return tf.tidy(() => tf.slice(tf.tensor2d(m, [ctx, ctx]), [0, 0], [S, S]));
}

/** Attention in float64, written from the definition: y_i = Σ_{j ≤ i} softmax_j(q_i·k_j/√hd) v_j per head. */
function reference(qkv: ArrayLike<number>, B: number, S: number, H: number, hd: number): Float64Array {
  const d = H * hd;
  const y = new Float64Array(B * S * d);
  const at = (b: number, s: number, part: number, h: number, i: number) => qkv[(b * S + s) * 3 * d + part * d + h * hd + i]!;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let s = 0; s < S; s++) {
        const w = new Float64Array(s + 1);
        for (let j = 0; j <= s; j++) {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += at(b, s, 0, h, i) * at(b, j, 1, h, i);
          w[j] = dot / Math.sqrt(hd);
        }
        const mx = Math.max(...w);
        let sum = 0;
        for (let j = 0; j <= s; j++) sum += (w[j] = Math.exp(w[j]! - mx));
        for (let i = 0; i < hd; i++) {
          let acc = 0;
          for (let j = 0; j <= s; j++) acc += (w[j]! / sum) * at(b, j, 2, h, i);
          y[(b * S + s) * d + h * hd + i] = acc;
        }
      }
    }
  }
  return y;
}

function qkvVariable(T: number, d: number, seed: number, std = 1): tf.Variable<tf.Rank.R2> {
  return tf.variable(tf.randomNormal([T, 3 * d], 0, std, 'float32', seed)) as tf.Variable<tf.Rank.R2>;
}

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE;
  delete process.env.LOADSCOPE_FUSED_ATTENTION;
  tf.disposeVariables();
});

describe.skipIf(!addon.path || nativeOff)(`native causal attention (${addon.reason ?? 'addon built'})`, () => {
  describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
    it('equals a float64 reference, and its gradient equals the reference\'s central finite differences', async () => {
      await useBackend(backend);
      const [B, S, H, hd] = [2, 5, 2, 3];
      const d = H * hd;
      const qkv = qkvVariable(B * S, d, 11, 1.5);
      const probe = tf.randomNormal([B * S, d], 0, 1, 'float32', 12);
      const x = Float64Array.from(qkv.dataSync());
      const p = Float64Array.from(probe.dataSync());
      const objective = (v: Float64Array) => reference(v, B, S, H, hd).reduce((acc, yi, i) => acc + yi * p[i]!, 0);

      const y = tf.tidy(() => nativeCausalAttention(qkv, B, S, H).dataSync());
      const ref = reference(x, B, S, H, hd);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y[i]! - ref[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref[i]!)));

      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(nativeCausalAttention(qkv, B, S, H), probe)) as tf.Scalar, [qkv]);
      const g = grads[qkv.name]!.dataSync();
      const eps = 1e-6;
      for (let i = 0; i < x.length; i++) {
        const up = Float64Array.from(x);
        const down = Float64Array.from(x);
        up[i]! += eps;
        down[i]! -= eps;
        const fd = (objective(up) - objective(down)) / (2 * eps);
        expect(Math.abs(g[i]! - fd), `dqkv[${i}] analytic ${g[i]} vs fd ${fd}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
      }
      tf.dispose([value, ...Object.values(grads), probe]);
    });

    // [B, S, ctx, H, hd]: S < ctx takes the sliced mask; S = 40 and 64 cross the kernel's 32-row blocks.
    it.each([
      [2, 8, 8, 2, 4],
      [1, 5, 16, 1, 6],
      [3, 40, 40, 4, 8],
      [2, 37, 64, 3, 5],
      [2, 64, 64, 4, 16], // tiny's heads
      [1, 128, 128, 4, 32], // small's heads
    ])('B=%i S=%i (ctx %i) H=%i hd=%i: the same values and gradients as the TF.js ops', async (B, S, ctx, H, hd) => {
      await useBackend(backend);
      const m = mask(ctx, S);
      const qkv = qkvVariable(B * S, H * hd, 21 + S);
      const probe = tf.randomNormal([B * S, H * hd], 0, 1, 'float32', 22);
      expectSameAsUnfused((v) => nativeCausalAttention(v, B, S, H), (v) => causalAttentionUnfused(v, B, S, H, m), [qkv], probe);
      tf.dispose([m, probe]);
    });

    it('is causal: changing a later token\'s q, k, v changes no earlier output, and no other sequence', async () => {
      await useBackend(backend);
      const [B, S, H, hd] = [2, 40, 2, 4];
      const d = H * hd;
      const base = tf.randomNormal([B * S, 3 * d], 0, 1, 'float32', 31);
      const before = tf.tidy(() => nativeCausalAttention(base as tf.Tensor2D, B, S, H).dataSync());
      for (const s of [0, 7, 33, 39]) {
        const x = Float32Array.from(base.dataSync());
        const t = 1 * S + s; // sequence 1, position s
        for (let j = 0; j < 3 * d; j++) x[t * 3 * d + j] = x[t * 3 * d + j]! + 2 + j;
        const after = tf.tidy(() => nativeCausalAttention(tf.tensor2d(x, [B * S, 3 * d]), B, S, H).dataSync());
        for (let u = 0; u < B * S; u++) {
          const row = (a: Float32Array | Int32Array | Uint8Array) => Array.from(a.subarray(u * d, (u + 1) * d));
          if (u < t) expect(row(after), `token ${u} after a change at ${t}`).toEqual(row(before));
          if (u === t) expect(row(after)).not.toEqual(row(before));
        }
      }
      base.dispose();
    });

    it('makes one tensor forward, leaks none through forward + backward', async () => {
      await useBackend(backend);
      const qkv = qkvVariable(2 * 6, 8, 41);
      const probe = tf.randomNormal([12, 8], 0, 1, 'float32', 42);
      const made = tf.tidy(() => {
        const n = tf.memory().numTensors;
        nativeCausalAttention(qkv, 2, 6, 2);
        return tf.memory().numTensors - n;
      });
      expect(made).toBe(1);
      const baseline = tf.memory();
      const backendIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
      const ids = backendIds();
      for (let i = 0; i < 3; i++) {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(nativeCausalAttention(qkv, 2, 6, 2), probe)) as tf.Scalar, [qkv]);
        tf.dispose([value, ...Object.values(grads)]);
      }
      // the engine's count, its bytes, and the backend's own data (the wasm heap's tensors)
      expect(tf.memory().numTensors).toBe(baseline.numTensors);
      expect(tf.memory().numBytes).toBe(baseline.numBytes);
      expect(backendIds()).toBe(ids);
      probe.dispose();
    });

    it('causalAttention takes the native kernel unless LOADSCOPE_FUSED_ATTENTION=0 or LOADSCOPE_NATIVE=0', async () => {
      await useBackend(backend);
      const [B, S, H] = [2, 6, 2];
      const qkv = qkvVariable(B * S, 8, 51);
      const m = mask(S, S);
      const kernels = () => tf.tidy(() => {
        const n = tf.memory().numTensors;
        const y = causalAttention(qkv, B, S, H, m);
        return { made: tf.memory().numTensors - n, y: Array.from(y.dataSync()) };
      });
      expect(fusedAttentionEnabled()).toBe(true);
      const on = kernels();
      process.env.LOADSCOPE_FUSED_ATTENTION = '0';
      expect(fusedAttentionEnabled()).toBe(false);
      const off = kernels();
      delete process.env.LOADSCOPE_FUSED_ATTENTION;
      process.env.LOADSCOPE_NATIVE = '0';
      expect(fusedAttentionEnabled()).toBe(false);
      expect(on.made).toBe(1);
      expect(off.made).toBeGreaterThan(8);
      for (let i = 0; i < on.y.length; i++) expect(on.y[i]).toBeCloseTo(off.y[i]!, 5);
      m.dispose();
    });
  });

  it('wasm: a heap growth between forward and backward changes nothing (views are taken per call)', async () => {
    await useBackend('wasm');
    const [B, S, H] = [2, 9, 2];
    const qkv = qkvVariable(B * S, 8, 61);
    const probe = tf.randomNormal([B * S, 8], 0, 1, 'float32', 62);
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const grad = (grow: boolean) => {
      const { value, grads } = tf.variableGrads(() => {
        const y = nativeCausalAttention(qkv, B, S, H);
        if (grow) tf.zeros([heapBytes() / 2]).dispose(); // 2× the heap in bytes: wasm memory must grow
        return tf.sum(tf.mul(y, probe)) as tf.Scalar;
      }, [qkv]);
      const g = Array.from(grads[qkv.name]!.dataSync());
      tf.dispose([value, ...Object.values(grads)]);
      return g;
    };
    const plain = grad(false);
    const before = heapBytes();
    const grown = grad(true);
    expect(heapBytes()).toBeGreaterThan(before);
    expect(grown).toEqual(plain);
    probe.dispose();
  });

  it('bad shapes and buffers throw a named error and write nothing', () => {
    const native = nativeAttention()!;
    const [B, S, H, hd] = [2, 3, 2, 2];
    const T = B * S;
    const d = H * hd;
    const f = (n: number) => new Float32Array(n);
    const y = f(T * d).fill(7);
    expect(() => native.attentionForward(B, S, H, hd, f(T * 3 * d - 1), y, f(B * H * S * S))).toThrow(RangeError);
    expect(() => native.attentionForward(B, S, H, hd, f(T * 3 * d), f(T * d + 1), f(B * H * S * S))).toThrow(/y has 25 floats, expected/);
    expect(() => native.attentionForward(B, S, H, hd, f(T * 3 * d), y, f(B * H * S * S - 1))).toThrow(/probs/);
    expect(() => native.attentionForward(B, S, 0, hd, f(0), f(0), f(0))).toThrow(/H and hd must be at least 1/);
    expect(() => native.attentionForward(B, -1, H, hd, f(0), f(0), f(0))).toThrow(/S must be a non-negative integer/);
    expect(() => native.attentionForward(1 << 20, 1 << 20, 1, 1, f(0), f(0), f(0))).toThrow(/is too large/);
    expect(() => native.attentionForward(B, S, H, hd, new Float64Array(T * 3 * d) as unknown as Float32Array, y, f(B * H * S * S))).toThrow(TypeError);
    expect(Array.from(y).every((v) => v === 7)).toBe(true);
    const ok = [f(T * 3 * d), f(B * H * S * S), f(T * d), f(T * 3 * d)] as const;
    expect(() => native.attentionBackward(B, S, H, hd, ok[0], ok[1], ok[2], f(T * 3 * d - 3))).toThrow(/dqkv has/);
    expect(() => native.attentionBackward(B, S, H, hd, ok[0], ok[1], f(T * d - 1), ok[3])).toThrow(/dy has/);
    expect(() => native.attentionBackward(B, S, H, hd, ok[0], f(1), ok[2], ok[3])).toThrow(/probs has 1 floats/);
    expect(() => (native.attentionBackward as (...a: unknown[]) => void)(B, S, H, hd, ok[0])).toThrow(/expected 8 arguments/);
  });
});
