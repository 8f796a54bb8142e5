// Whether a run's CPU backend had Loadscope's native (OpenBLAS) kernels and, if not, why: read from its BackendInfo.
import type { BackendInfo } from './reports';

const NOTE = 'native matmul: ';

/**
 * One line for people when a wasm/cpu run trained without the native kernels (the addon failed to load or was
 * turned off), with the recorded load error; null when they were in use or do not apply (tensorflow backend).
 */
export function nativeKernelsMissing(backend: BackendInfo | null | undefined): string | null {
  if (!backend || backend.name === 'tensorflow' || backend.device.includes('OpenBLAS')) return null;
  const note = backend.notes.find((n) => n.startsWith(NOTE));
  const why = note ? note.slice(NOTE.length) : 'no reason recorded';
  const fix = why.includes('LOADSCOPE_NATIVE=0') ? '' : '; build them with `npm run build:native`';
  return `native kernels missing (${why}): TF.js's own kernels, several times slower${fix}`;
}
