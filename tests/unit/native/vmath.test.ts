// native/vmath.h's e^x and sigmoid (the kernels' vectorised replacements for libm's expf) against float64 references.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ensureAddon } from './addon';

interface Vmath {
  vmathExp(x: Float32Array, y: Float32Array): void;
  vmathSigmoid(x: Float32Array, y: Float32Array): void;
}
const addon = ensureAddon();
const skip = !addon.path || process.env.LOADSCOPE_NATIVE === '0';
const k = (addon.path ? createRequire(import.meta.url)(addon.path) : null) as Vmath | null;

/** ulps between a float32 result and a float64 reference: |got − want| / the float32 spacing at want. */
function ulps(got: number, want: number): number {
  const spacing = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
  return Math.abs(got - want) / spacing;
}

/** n points spread over [lo, hi] (float32), ends included, plus a few hand-picked ones. */
function grid(lo: number, hi: number, n: number, extra: number[]): Float32Array {
  return Float32Array.from([...Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1)), ...extra]);
}

describe.skipIf(skip)('vmath.h', () => {
  it('e^x over [−87, 0] is within 2 ulp of the float64 exponential, hand-picked values included', () => {
    const x = grid(-87, 0, 200_001, [0, -Math.LN2, -1, -0.5 * Math.LN2, -1e-7, -20.5, -86.99]);
    const y = new Float32Array(x.length);
    k!.vmathExp(x, y);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulps(y[i]!, Math.exp(x[i]!)));
    expect(worst).toBeLessThanOrEqual(2);
    expect(y[200_001]).toBe(1); // e^0 exactly
    expect(y[200_003]).toBeCloseTo(Math.exp(-1), 7);
  });

  it('e^x below −87 stays at e^−87 (a normal float, no subnormal slow path) and NaN passes through', () => {
    const y = new Float32Array(3);
    k!.vmathExp(Float32Array.from([-88, -1e30, NaN]), y);
    expect(Math.abs(y[0]! / Math.exp(-87) - 1)).toBeLessThan(1e-6);
    expect(y[1]).toBe(y[0]);
    expect(Number.isNaN(y[2]!)).toBe(true);
  });

  it('σ(a) over [−80, 80] is within 3 ulp of 1/(1+e^−a) in float64, and σ(0) = 0.5', () => {
    const x = grid(-80, 80, 200_001, [0, 1, -1, 20, -20]);
    const y = new Float32Array(x.length);
    k!.vmathSigmoid(x, y);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulps(y[i]!, 1 / (1 + Math.exp(-x[i]!))));
    expect(worst).toBeLessThanOrEqual(3);
    expect(y[200_001]).toBe(0.5);
  });

  it('σ saturates without overflow: 1 for large a, tiny positive for very negative a, NaN for NaN', () => {
    const y = new Float32Array(4);
    k!.vmathSigmoid(Float32Array.from([200, -200, -1e30, NaN]), y);
    expect(y[0]).toBe(1);
    expect(y[1]).toBeGreaterThan(0);
    expect(y[1]).toBeLessThan(1e-37);
    expect(y[2]).toBe(y[1]);
    expect(Number.isNaN(y[3]!)).toBe(true);
  });

  it('throws for a length mismatch or a wrong array type', () => {
    expect(() => k!.vmathExp(new Float32Array(3), new Float32Array(2))).toThrow(/differ in length/);
    expect(() => k!.vmathSigmoid(new Float64Array(2) as unknown as Float32Array, new Float32Array(2))).toThrow(TypeError);
  });
});
