// Benchmark section "routing" (placeholder until its owner lands it).
import type { BenchModule } from './types';

const bench: BenchModule = async () => {
  throw new Error('routing bench not implemented yet');
};
export default bench;
