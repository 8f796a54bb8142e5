// The shape every benchmark section returns: a printable table plus raw data for the JSON file.

export interface BenchSection {
  /** e.g. "Routing quality and time (4096 tokens)" */
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  /** machine, backend, caveats: printed under the table */
  notes?: string[];
  /** anything else worth keeping in the JSON file */
  data?: unknown;
}

export interface BenchContext {
  /** --quick: fewer repetitions, for smoke-testing the bench itself */
  quick: boolean;
  log(message: string): void;
}

export type BenchModule = (ctx: BenchContext) => Promise<BenchSection[]>;
