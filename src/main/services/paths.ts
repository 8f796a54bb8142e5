// Where runs live by default: shared by the window, `loadscope serve` and `loadscope train`, so a run
// trained from the terminal shows up in the app. LOADSCOPE_RUNS_DIR overrides it.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function defaultRunsDir(): string {
  const env = process.env.LOADSCOPE_RUNS_DIR;
  return env && env.trim() !== '' ? resolve(env) : join(homedir(), '.loadscope', 'runs');
}
