// Loads the optional OpenBLAS addon (native/build/Release/blas.node, built by `npm run build:native`).
// Absent or unloadable, it reports why and the engine keeps TF.js's own matmul kernels.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/blas.c). Matrices are row-major Float32Array views. */
export interface NativeBlas {
  /** for i < batch: c[i·m·n …] = op(a[i·strideA …]) · op(b[i·strideB …]); stride 0 reuses one matrix */
  gemm(
    batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    a: Float32Array, strideA: number, b: Float32Array, strideB: number, c: Float32Array,
  ): void;
  /** OpenBLAS threads for the whole process */
  setThreads(threads: number): void;
  getThreads(): number;
  /** OpenBLAS build string, e.g. "OpenBLAS 0.3.21 … Cooperlake MAX_THREADS=64" */
  config(): string;
}

export type BlasLoad = { blas: NativeBlas; path: string } | { blas: null; reason: string };

const ADDON = join('native', 'build', 'Release', 'blas.node');

/** Where the addon may be: next to any ancestor of this file (src/main/engine/native or a bundled out/main),
 *  and in a packaged Electron app's unpacked resources. */
export function addonCandidates(): string[] {
  const out: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    out.push(join(dir, ADDON));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) out.push(join(resources, 'app.asar.unpacked', ADDON));
  return out;
}

let cached: BlasLoad | undefined;

/** Loads the addon once. `path` (tests, or LOADSCOPE_NATIVE_BLAS) loads that file instead, uncached;
 *  LOADSCOPE_NATIVE=0 turns the native kernels off. */
export function loadNativeBlas(path?: string): BlasLoad {
  if (path !== undefined) return loadFrom([path]);
  if (process.env.LOADSCOPE_NATIVE === '0') return { blas: null, reason: 'turned off by LOADSCOPE_NATIVE=0' };
  const override = process.env.LOADSCOPE_NATIVE_BLAS;
  cached ??= loadFrom(override ? [override] : addonCandidates());
  return cached;
}

function loadFrom(paths: string[]): BlasLoad {
  const found = paths.find((p) => existsSync(p));
  if (!found) {
    return { blas: null, reason: `native addon not built (looked for ${paths[0]}${paths.length > 1 ? ` and ${paths.length - 1} more` : ''}; run npm run build:native)` };
  }
  try {
    const mod = createRequire(import.meta.url)(found) as Partial<NativeBlas>;
    if (typeof mod.gemm !== 'function' || typeof mod.setThreads !== 'function') {
      return { blas: null, reason: `${found} is not the Loadscope BLAS addon (no gemm/setThreads)` };
    }
    return { blas: mod as NativeBlas, path: found };
  } catch (err) {
    // Typically libopenblas.so.0 missing at run time, or an addon built for another platform.
    return { blas: null, reason: `could not load ${found}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
}
