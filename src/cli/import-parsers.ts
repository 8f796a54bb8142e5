// Parsers of `loadscope import`: a Megatron router trace (JSONL of top-k indices) and a loads CSV.

export interface ImportedLoads {
  kind: 'trace' | 'loads';
  layers: number;
  experts: number;
  /** slots per token seen in a trace (0 when the file cannot tell) */
  topK: number;
  /** [step, layer-major L×E loads], steps growing */
  rows: Array<[number, Float32Array]>;
}

/**
 * One line per (step, layer, micro-batch or rank): {"step"|"iteration", "layer", "indices"|"topk": [[e, …], …]}.
 * Lines of the same step and layer are summed (micro-batches, ranks); a step's loads are the token-slot counts.
 */
export function parseRouterTrace(text: string, expertsFlag?: number): ImportedLoads {
  const byStep = new Map<number, Map<number, number[]>>();
  let maxExpert = -1;
  let maxLayer = -1;
  let topK = 0;
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    const step = rec.step ?? rec.iteration;
    const layer = rec.layer;
    const idx = rec.indices ?? rec.topk;
    if (!Number.isInteger(step) || (step as number) < 1) throw new Error(`line ${i + 1}: "step" must be a whole number ≥ 1`);
    if (!Number.isInteger(layer) || (layer as number) < 0) throw new Error(`line ${i + 1}: "layer" must be a whole number ≥ 0`);
    if (!Array.isArray(idx)) throw new Error(`line ${i + 1}: "indices" must be a list of per-token expert lists`);
    const counts = new Map<number, number>();
    for (const tok of idx) {
      const slots = Array.isArray(tok) ? tok : [tok];
      topK = Math.max(topK, slots.length);
      for (const e of slots) {
        if (!Number.isInteger(e) || e < 0) throw new Error(`line ${i + 1}: expert index ${JSON.stringify(e)} is not a whole number ≥ 0`);
        if (expertsFlag !== undefined && e >= expertsFlag) throw new Error(`line ${i + 1}: expert index ${e} is not below --experts ${expertsFlag}`);
        counts.set(e, (counts.get(e) ?? 0) + 1);
        maxExpert = Math.max(maxExpert, e);
      }
    }
    maxLayer = Math.max(maxLayer, layer as number);
    const perLayer = byStep.get(step as number) ?? new Map<number, number[]>();
    byStep.set(step as number, perLayer);
    const acc = perLayer.get(layer as number) ?? [];
    for (const [e, n] of counts) acc[e] = (acc[e] ?? 0) + n;
    perLayer.set(layer as number, acc);
  });
  if (byStep.size === 0) throw new Error('no trace records');
  const L = maxLayer + 1;
  const E = expertsFlag ?? maxExpert + 1;
  const rows: Array<[number, Float32Array]> = [];
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const out = new Float32Array(L * E);
    for (const [l, acc] of byStep.get(step)!) acc.forEach((n, e) => (out[l * E + e] = n ?? 0));
    rows.push([step, out]);
  }
  return { kind: 'trace', layers: L, experts: E, topK, rows };
}

/** `step,layer,e0,…` (header optional), one row per step and layer, as `loadscope runs export --series loads --format csv`. */
export function parseLoadsCsv(text: string): ImportedLoads {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > 0 && /[a-z]/i.test(lines[0]!.split(',')[0]!)) lines.shift();
  if (lines.length === 0) throw new Error('no rows');
  let E = -1;
  const bySteps = new Map<number, Map<number, number[]>>();
  let maxLayer = -1;
  lines.forEach((line, i) => {
    const cells = line.split(',').map((c) => Number(c.trim()));
    if (cells.some((c) => !Number.isFinite(c))) throw new Error(`row ${i + 1}: not all cells are numbers`);
    const [step, layer, ...loads] = cells as [number, number, ...number[]];
    if (E < 0) E = loads.length;
    if (loads.length !== E || E < 2) throw new Error(`row ${i + 1}: ${loads.length} loads, expected ${E} (one per expert, at least 2)`);
    if (!Number.isInteger(step) || step < 1 || !Number.isInteger(layer) || layer < 0) throw new Error(`row ${i + 1}: step must be ≥ 1 and layer ≥ 0 (whole numbers)`);
    const m = bySteps.get(step) ?? new Map<number, number[]>();
    bySteps.set(step, m);
    if (m.has(layer)) throw new Error(`row ${i + 1}: step ${step} layer ${layer} appears twice`);
    m.set(layer, loads);
    maxLayer = Math.max(maxLayer, layer);
  });
  const L = maxLayer + 1;
  const rows: Array<[number, Float32Array]> = [];
  for (const step of [...bySteps.keys()].sort((a, b) => a - b)) {
    const m = bySteps.get(step)!;
    if (m.size !== L) throw new Error(`step ${step} has ${m.size} of ${L} layers`);
    const out = new Float32Array(L * E);
    for (const [l, loads] of m) out.set(loads, l * E);
    rows.push([step, out]);
  }
  return { kind: 'loads', layers: L, experts: E, topK: 0, rows };
}
