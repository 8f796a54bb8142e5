// The exact solver against an independent LP solver: scipy's HiGHS (bench/highs.py, the bench's reference) on a
// few small batches, both row forms. The routing LP is totally unimodular, so both optima must agree exactly
// (to float64 rounding). Skipped, saying why, where no python with scipy exists.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { routerScores } from '../../bench/routing-highs';
import { solveOptimal } from '../../src/main/engine/solver/optimal';

const script = fileURLToPath(new URL('../../bench/highs.py', import.meta.url));
const python = [process.env.LOADSCOPE_PYTHON, '/usr/bin/python3', 'python3'].find(
  (p) => !!p && spawnSync(p, ['-c', 'import scipy.optimize'], { timeout: 60_000 }).status === 0,
);
const dir = mkdtempSync(join(tmpdir(), 'loadscope-highs-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function highs(s: Float32Array, T: number, E: number, k: number, C: number, fill: boolean): number {
  const file = join(dir, `s${T}x${E}.f32`);
  writeFileSync(file, Buffer.from(s.buffer, s.byteOffset, s.byteLength));
  const r = spawnSync(python!, [script, file, String(T), String(E), String(k), String(C), ...(fill ? ['--fill'] : [])], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`highs.py failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { objective: number }).objective;
}

describe.skipIf(!python)(`exact solver vs HiGHS (${python ? `python ${python}` : 'skipped: no python with scipy; install python3-scipy'})`, () => {
  it('same optimum on skewed, sigmoid and benign batches, cold and warm-started, rows ≤ k and = k', () => {
    for (const [kind, T, E, k] of [
      ['skewed', 256, 16, 2],
      ['sigmoid', 192, 8, 3],
      ['benign', 128, 32, 4],
      ['sigmoid', 1024, 16, 2], // ≥ 1024 tokens: cold prices from a 256-token sample first
    ] as const) {
      const C = Math.ceil((k * T) / E);
      const s = routerScores(kind, T, E, 11 + T);
      const prev = solveOptimal(routerScores(kind, T, E, 12 + T), T, E, k, C).priceE;
      for (const fill of [false, true]) {
        const ref = highs(s, T, E, k, C, fill);
        for (const startPrices of [undefined, prev]) {
          const sol = solveOptimal(s, T, E, k, C, startPrices ? { fill, startPrices } : { fill });
          expect(Math.abs(sol.objective - ref) / ref).toBeLessThan(1e-9);
        }
      }
    }
  }, 120_000);

  it('a score file of the wrong size is one clear line and a non-zero exit', () => {
    const file = join(dir, 'short.f32');
    writeFileSync(file, Buffer.alloc(12));
    const r = spawnSync(python!, [script, file, '4', '4', '1', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/holds 3 scores, expected 4×4/);
  });
});
