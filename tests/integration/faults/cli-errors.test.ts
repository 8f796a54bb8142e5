// Fault #9: one clear line and a non-zero exit instead of stack traces (damaged run folders, files where
// folders belong, deep JSON, a closed pipe), strict flags, --version, and .npy headers of any legal length.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRunsDir } from '../fixtures/service-helpers';
import { TINY, cli, hasStack, lastLine, root } from './cli-helpers';

const tmp = tempRunsDir();
let runId = '';
afterAll(() => tmp.cleanup());
beforeAll(() => {
  const r = cli(['train', ...TINY, '--steps', '3', '--checkpoint-every', '0', '--out', tmp.dir, '--json']);
  runId = (JSON.parse(lastLine(r.stdout)) as { runId: string }).runId;
}, 200_000);

/** A copy of the run, damaged by `f`; returns its id. */
function damaged(suffix: string, f: (dir: string) => void): string {
  const id = `${runId.slice(0, -6)}${suffix}`;
  const dir = join(tmp.dir, id);
  cpSync(join(tmp.dir, runId), dir, { recursive: true });
  f(dir);
  return id;
}

function oneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(hasStack(r.stderr)).toBe(false);
  expect(r.stderr.trim().split('\n').length).toBe(1);
  expect(r.stderr.trim()).toMatch(pattern);
  expect(r.code).not.toBe(0);
}

describe('9 clear errors', () => {
  it('9 clear errors: runs show on damaged folders (a 5 MiB steps line, checkpoints a file, steps.jsonl a folder)', () => {
    const big = damaged('0000aa', (d) => writeFileSync(join(d, 'steps.jsonl'), `{"step":4,"pad":"${'x'.repeat(5 << 20)}"}\n`, { flag: 'a' }));
    const ckf = damaged('0000bb', (d) => {
      rmSync(join(d, 'checkpoints'), { recursive: true, force: true });
      writeFileSync(join(d, 'checkpoints'), 'not a folder');
    });
    const dirSteps = damaged('0000cc', (d) => {
      rmSync(join(d, 'steps.jsonl'));
      mkdirSync(join(d, 'steps.jsonl'));
    });
    oneLine(cli(['runs', 'show', big, '--runs', tmp.dir]), new RegExp(`^loadscope: cannot read run ${big}: steps.jsonl: a line longer than`));
    oneLine(cli(['runs', 'show', ckf, '--runs', tmp.dir]), /^loadscope: cannot read run \S+: ENOTDIR/);
    oneLine(cli(['runs', 'show', dirSteps, '--runs', tmp.dir]), /^loadscope: cannot read run \S+: EISDIR/);
  }, 120_000);

  it('9 clear errors: --out and --runs naming a file, a missing --runs folder', () => {
    const file = join(tmp.dir, '..', 'a-file');
    writeFileSync(file, 'x');
    oneLine(cli(['train', '--preset', 'tiny', '--out', file]), /^loadscope: --out: .* is a file, not a folder$/);
    oneLine(cli(['runs', 'list', '--runs', file]), /^loadscope: --runs: .* is a file, not a folder$/);
    oneLine(cli(['runs', 'list', '--runs', join(tmp.dir, 'no-such-folder')]), /^loadscope: --runs: no runs folder at /);
  }, 60_000);

  it('9 clear errors: --set __proto__=1 and --steps 0x10 are refused; --version prints the version', () => {
    oneLine(cli(['train', '--set', '__proto__=1', '--out', tmp.dir]), /^loadscope: --set: "__proto__" is not an option name/);
    oneLine(cli(['train', '--steps', '0x10', '--out', tmp.dir]), /^loadscope: --steps \(steps\):/);
    const v = cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^loadscope \d+\.\d+\.\d+/);
  }, 60_000);

  it('9 clear errors: route with a deeply nested JSON file, and with legal unaligned .npy headers', () => {
    const deep = join(tmp.dir, '..', 'deep.json');
    writeFileSync(deep, '['.repeat(200_000) + ']'.repeat(200_000));
    oneLine(cli(['route', '--scores', deep, '--k', '1', '--strategy', 'none']), /^loadscope: .*deep\.json: expected a 2-D .* more than 3 levels of nesting$/);
    // headers padded so the data starts 16-byte aligned (older writers) or not aligned at all: all legal
    for (const align of [16, 1]) {
      let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }";
      h += ' '.repeat((align - ((10 + h.length + 1) % align)) % align) + '\n';
      const data = new Float32Array([0.1, 0.5, 0.2, 0.9, 0.3, 0.1, 0.8, 0.2]);
      const buf = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), Buffer.from([h.length & 255, h.length >> 8]), Buffer.from(h, 'latin1'), Buffer.from(data.buffer)]);
      const path = join(tmp.dir, '..', `a${align}.npy`);
      writeFileSync(path, buf);
      const r = cli(['route', '--scores', path, '--k', '1', '--strategy', 'none', '--assignment']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // top-1 of [0.1 .5 .2 .9] is expert 3, of [.3 .1 .8 .2] expert 2
      const out = JSON.parse(r.stdout) as { results: Array<{ assignment: number[][]; loads: number[] }> };
      expect(out.results[0]!.assignment).toEqual([[3], [2]]);
      expect(out.results[0]!.loads).toEqual([0, 0, 1, 1]);
    }
  }, 60_000);

  it('9 clear errors: runs export | head ends quietly with exit 0 (EPIPE)', () => {
    const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1' };
    const r = spawnSync('bash', ['-c', `set -o pipefail; node bin/loadscope.mjs runs export ${runId} --runs '${tmp.dir}' --series loads --format csv | head -1`], { cwd: root, env, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^step,layer,e0/);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);
});
