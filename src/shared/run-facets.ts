// Per-run facets for the runs list (hyper-parameter columns, notes, sweep and lineage filters).
export interface RunFacets {
  runId: string;
  notes: string;
  sweep: { id: string; cell: string } | null;
  /** a branch: the run and step it started from */
  parent: { runId: string; step: number } | null;
  /** flat hyper-parameters: lr, seed, steps, preset, model.experts, option.T, … */
  params: Record<string, number | string | boolean>;
}
