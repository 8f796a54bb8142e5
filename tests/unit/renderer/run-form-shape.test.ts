// The New run form's custom model shape: sent only for preset "custom", checked per field by the same
// resolveRunConfig as the CLI (ranges, top-k below experts, heads dividing d_model).
import { describe, expect, it } from 'vitest';
import { defaultForm, knownField, validateForm } from '../../../src/renderer/src/lib/run-form';

describe('run form: custom model shape', () => {
  it('a preset ignores the shape fields; custom sends them as numbers and they resolve', () => {
    const f = defaultForm();
    f.model.layers = '3';
    expect(validateForm(f).input.model).toBeUndefined();
    f.preset = 'custom';
    Object.assign(f.model, { layers: '1', experts: '4', topK: '1', dModel: '32', heads: '2', ctx: '16', batch: '2', expertHidden: '64' });
    const r = validateForm(f);
    expect(r.errors).toEqual({});
    expect(r.input.model).toEqual({ layers: 1, experts: 4, topK: 1, dModel: 32, heads: 2, ctx: 16, batch: 2, expertHidden: 64 });
  });

  it('names the field and the problem', () => {
    const f = defaultForm();
    f.preset = 'custom';
    f.model.layers = '49';
    f.model.batch = 'eight';
    expect(validateForm(f).errors).toEqual({ 'model.layers': 'must be a whole number from 1 to 48', 'model.batch': '“eight” is not a number' });
    f.model.layers = '2';
    f.model.batch = '8';
    f.model.topK = '8';
    f.model.heads = '3';
    expect(validateForm(f).errors).toEqual({ 'model.topK': 'top-k 8 must be below the number of experts 8', 'model.heads': 'dModel 64 must be divisible by heads 3' });
    expect(knownField('model.topK', f)).toBe(true);
    f.preset = 'tiny';
    expect(knownField('model.topK', f)).toBe(false);
  });
});
