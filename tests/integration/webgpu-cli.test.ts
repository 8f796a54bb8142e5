// `loadscope train --backend webgpu` end to end: the acceptance run on SwiftShader against wasm, and the
// one-line exit-2 failures (no adapter; only a software one without LOADSCOPE_WEBGPU_SOFTWARE) with no run folder.
//
// SwiftShader emulates the GPU on the CPU: the 5-step tiny run takes minutes (≈ 1–5 min per step on a
// busy 2-core machine), hence the long timeout. Skips, saying why, without chromium's SwiftShader driver.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findSwiftShaderIcd } from '../../src/main/engine/webgpu';
import { tempRunsDir } from './fixtures/service-helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');
const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());
const icd = findSwiftShaderIcd();
if (!icd) console.warn('webgpu CLI tests skipped: no SwiftShader Vulkan driver (Debian chromium ships it)');

function train(args: string[], extraEnv: Record<string, string | undefined>, timeout = 120_000) {
  const env: Record<string, string | undefined> = { ...process.env, LOADSCOPE_FROM_SOURCE: '1', LOADSCOPE_WEBGPU_SOFTWARE: undefined, VK_ICD_FILENAMES: undefined, ...extraEnv };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(process.execPath, [bin, 'train', ...args], { cwd: root, env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const acceptance = (backend: string, out: string) => ['--preset', 'tiny', '--backend', backend, '--steps', '5', '--seed', '1', '--data', 'synthetic', '--out', out, '--json'];
const lossesOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; loss?: number })
    .filter((l) => l.type === 'step')
    .map((l) => l.loss!);
/** loadscope's own lines (Dawn and the Vulkan loader print their own warnings on stderr too) */
const ownLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('loadscope:'));

describe.skipIf(!icd)('loadscope train --backend webgpu', () => {
  it('with no adapter at all: one line saying so, exit 2, no run folder', () => {
    const out = join(tmp.dir, 'none');
    const r = train(acceptance('webgpu', out), { VK_ICD_FILENAMES: join(tmp.dir, 'no-such-icd.json') });
    expect(r.code).toBe(2);
    expect(ownLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/--backend webgpu: .*no WebGPU adapter/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('with only a software adapter and no LOADSCOPE_WEBGPU_SOFTWARE: one line naming it, exit 2, no run folder', () => {
    const out = join(tmp.dir, 'software');
    const r = train(acceptance('webgpu', out), { VK_ICD_FILENAMES: icd! });
    expect(r.code).toBe(2);
    expect(ownLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/only a software adapter \(google swiftshader\).*LOADSCOPE_WEBGPU_SOFTWARE=1/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('the acceptance run: 5 tiny steps on the software adapter, losses within 1e-3 of wasm', { timeout: 3_600_000 }, () => {
    const wasm = train(acceptance('wasm', join(tmp.dir, 'wasm')), {});
    expect(wasm.code, wasm.stderr).toBe(0);
    const gpu = train(acceptance('webgpu', join(tmp.dir, 'webgpu')), { LOADSCOPE_WEBGPU_SOFTWARE: '1' }, 3_500_000);
    expect(gpu.code, gpu.stderr).toBe(0);
    const summary = JSON.parse(gpu.stdout.trim().split('\n').at(-1)!) as { backend: string; status: string; adapter?: { software: boolean; vendor: string } };
    expect(summary).toMatchObject({ backend: 'webgpu', status: 'completed', adapter: { software: true, vendor: 'google' } });
    const [a, b] = [lossesOf(wasm.stdout), lossesOf(gpu.stdout)];
    expect(b).toHaveLength(5);
    b.forEach((l, i) => expect(Math.abs(l - a[i]!), `step ${i + 1}: webgpu ${l}, wasm ${a[i]}`).toBeLessThan(1e-3));
  });
});
