// Benchmark section "training" (placeholder until its owner lands it).
import type { BenchModule } from './types';

const bench: BenchModule = async () => {
  throw new Error('training bench not implemented yet');
};
export default bench;
