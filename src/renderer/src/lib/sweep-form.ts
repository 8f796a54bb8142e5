// The "New sweep" form's text fields → a sweep spec (checked with the same shared expansion main uses).
import { expandSweep, type SweepSpec } from '../../../shared/sweep';
import type { FieldError } from '../../../shared/run-config';

export interface SweepFormState {
  name: string;
  preset: string;
  strategies: string[];
  /** "T=2,4,8; u=0.001,0.01" */
  options: string;
  seeds: string;
  steps: number;
  evalEvery: number;
  backend: string;
}

export function specOfForm(f: SweepFormState): { spec: SweepSpec; errors: FieldError[]; runs: number } {
  const errors: FieldError[] = [];
  const options: Record<string, Array<number | string>> = {};
  for (const part of f.options.split(/[;\n]/).map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      errors.push({ path: 'options', message: `"${part}" is not NAME=V1,V2` });
      continue;
    }
    options[part.slice(0, eq).trim()] = part.slice(eq + 1).split(',').map((v) => v.trim()).filter(Boolean).map((v) => (Number.isFinite(Number(v)) ? Number(v) : v));
  }
  const seeds = f.seeds.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) errors.push({ path: 'seeds', message: 'seeds are non-negative integers separated by commas' });
  const spec = {
    ...(f.name.trim() ? { name: f.name.trim() } : {}),
    base: { preset: f.preset, steps: f.steps, evalEvery: f.evalEvery, backend: f.backend, checkpointEvery: 0 },
    strategies: f.strategies,
    options,
    seeds,
  } as SweepSpec;
  if (errors.length) return { spec, errors, runs: 0 };
  const grid = expandSweep(spec);
  return grid.ok ? { spec, errors: [], runs: grid.cells.length } : { spec, errors: grid.errors, runs: 0 };
}
