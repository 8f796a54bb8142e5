// The microBatches run option: default 1, whole numbers from 1 only, one clear message in the config, the CLI
// flags and the New-run form alike.
import { describe, expect, it } from 'vitest';
import { formatFieldErrors, resolveRunConfig } from '../../src/shared/run-config';
import { configFromFlags } from '../../src/cli/commands/train';
import { specFromFlags } from '../../src/cli/commands/sweep';
import { defaultForm, validateForm } from '../../src/renderer/src/lib/run-form';
import { comparabilityWarnings } from '../../src/shared/comparability';

describe('microBatches', () => {
  it('defaults to 1 and accepts whole numbers', () => {
    const d = resolveRunConfig({});
    expect(d.ok && d.config.microBatches).toBe(1);
    const k = resolveRunConfig({ microBatches: 4 });
    expect(k.ok && k.config.microBatches).toBe(4);
  });

  it('rejects 0, negatives, fractions and text with one line naming the field and range', () => {
    for (const bad of [0, -2, 1.5, 2000, 'two']) {
      const r = resolveRunConfig({ microBatches: bad });
      expect(r.ok, String(bad)).toBe(false);
      if (!r.ok) expect(formatFieldErrors(r.errors)).toMatch(/^microBatches: must be a whole number from 1 to 1024$/);
    }
  });

  it('comes from --micro-batches (train and sweep) and from the form field', () => {
    expect(configFromFlags({ 'micro-batches': '3' }).microBatches).toBe(3);
    expect(specFromFlags({ strategy: 'aux-loss', set: ['scope=micro,global'], 'micro-batches': '4' })).toMatchObject({ base: { microBatches: 4 }, options: { scope: ['micro', 'global'] } });
    const f = defaultForm();
    expect(validateForm(f).input.microBatches).toBe(1);
    f.microBatches = '0';
    expect(validateForm(f).errors.microBatches).toBe('must be a whole number from 1 to 1024');
    f.microBatches = 'x';
    expect(validateForm(f).errors.microBatches).toBe('“x” is not a number');
  });

  it('runs with different micro-batch counts are flagged as differing in shape', () => {
    const cfg = (microBatches: number) => {
      const r = resolveRunConfig({ microBatches });
      if (!r.ok) throw new Error('bad config');
      return r.config;
    };
    const w = comparabilityWarnings([{ name: 'a', config: cfg(1) }, { name: 'b', config: cfg(4) }]);
    expect(w.map((x) => x.field)).toEqual(['model']);
    expect(w[0]!.message).toMatch(/batch8×4 micro-batches/);
  });
});
