// Test helper: the native addon's path, building it once (npm run build:native's script) when missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeBlas } from '../../../src/main/engine/native/blas';

const root = join(import.meta.dirname, '..', '..', '..');
export const ADDON_PATH = join(root, 'native', 'build', 'Release', 'blas.node');

/** { path } when the addon loads, else { reason } with the build script's own explanation. */
export function ensureAddon(): { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  let buildLog = '';
  if (!existsSync(ADDON_PATH)) {
    const run = spawnSync(process.execPath, [join(root, 'native', 'build.mjs')], { cwd: root, encoding: 'utf8' });
    buildLog = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  }
  const load = loadNativeBlas(ADDON_PATH);
  if (load.blas) return { path: ADDON_PATH };
  const reason = `${load.reason}${buildLog ? `; build:native said: ${buildLog}` : ''}`;
  console.warn(`native matmul tests skipped: ${reason}`);
  return { reason };
}
