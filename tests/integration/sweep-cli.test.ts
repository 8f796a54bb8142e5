// `loadscope sweep` end to end (child processes on the real engine, tiny preset): a 2 strategies × 2 seeds
// × 30 steps grid finishes, `runs list --sweep` lists its 4 runs with their options, --resume re-queues a lost run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempRunsDir } from './fixtures/service-helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');
const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1' };
const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 400_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const jsonLines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
interface Listed { runId: string; status: string; steps: number; strategy: string; sweep: { id: string; cell: string }; options: Record<string, unknown>; strategyOptions: Record<string, unknown> }

describe('loadscope sweep', () => {
  let sweepId = '';
  it('2 strategies × 2 seeds × 30 steps finish; runs list --sweep gives 4 completed runs with their options', () => {
    const r = cli(['sweep', '--preset', 'tiny', '--strategy', 'bip,loss-free', '--set', 'T=4', '--seeds', '1,2', '--steps', '30',
      '--backend', 'wasm', '--eval-every', '15', '--checkpoint-every', '0', '--out', tmp.dir, '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', status: 'done', runs: 4, completed: 4 });
    sweepId = summary.sweepId as string;
    expect(lines.filter((l) => l.type === 'run' && l.status === 'completed')).toHaveLength(4);

    const list = cli(['runs', 'list', '--runs', tmp.dir, '--sweep', sweepId, '--json']);
    expect(list.code).toBe(0);
    const runs = JSON.parse(list.stdout) as Listed[];
    expect(runs).toHaveLength(4);
    for (const run of runs) {
      expect(run).toMatchObject({ status: 'completed', steps: 30, sweep: { id: sweepId } });
      expect(run.options.strategy).toBe(run.strategy);
      // T is swept for bip only: loss-free has no T option, so it is not multiplied by it
      if (run.strategy === 'bip') expect(run.options.T).toBe(4);
      else expect(run.options.T).toBeUndefined();
      expect(run.strategyOptions).toEqual(expect.any(Object));
      // the run folder itself records its sweep
      const meta = JSON.parse(readFileSync(join(tmp.dir, run.runId, 'meta.json'), 'utf8')) as { sweep?: { id: string } };
      expect(meta.sweep?.id).toBe(sweepId);
    }
    const cells = runs.map((x) => `${x.options.strategy}/${String(x.options.seed)}`).sort();
    expect(cells).toEqual(['bip/1', 'bip/2', 'loss-free/1', 'loss-free/2']);
  }, 420_000);

  it('--resume queues only the run that is missing (a lost folder) and the sweep is whole again', () => {
    expect(sweepId).not.toBe('');
    const before = JSON.parse(cli(['runs', 'list', '--runs', tmp.dir, '--sweep', sweepId, '--json']).stdout) as Listed[];
    const lost = before.find((x) => x.strategy === 'loss-free' && x.options.seed === 2)!;
    rmSync(join(tmp.dir, lost.runId), { recursive: true });
    const r = cli(['sweep', '--resume', sweepId, '--out', tmp.dir, '--json']);
    expect(r.stderr).toMatch(/1 run\(s\) queued of 4/);
    expect(r.code).toBe(0);
    const after = JSON.parse(cli(['runs', 'list', '--runs', tmp.dir, '--sweep', sweepId, '--json']).stdout) as Listed[];
    expect(after).toHaveLength(4);
    expect(after.every((x) => x.status === 'completed')).toBe(true);
    const again = after.find((x) => x.strategy === 'loss-free' && x.options.seed === 2)!;
    expect(again.runId).not.toBe(lost.runId);
    // the other three are the same runs as before (not retrained)
    expect(after.filter((x) => x !== again).map((x) => x.runId).sort()).toEqual(before.filter((x) => x !== lost).map((x) => x.runId).sort());
  }, 420_000);

  it('bad input is one clear line and nothing is written', () => {
    const r = cli(['sweep', '--strategy', 'loss-free', '--set', 'T=2,4', '--out', join(tmp.dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/options\.T: no chosen strategy \(loss-free\) has an option "T"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(tmp.dir, 'bad', '.sweeps'))).toBe(false);
    const seeds = cli(['sweep', '--strategy', 'bip', '--seeds', '1,x', '--out', tmp.dir]);
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toMatch(/--seeds: "x" is not a non-negative integer/);
    const unknown = cli(['runs', 'list', '--runs', tmp.dir, '--sweep', 'sweep-20200101-000000-abcdef']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no sweep "sweep-20200101-000000-abcdef"/);
  }, 120_000);

  it('runs on the shared engine worker (LOADSCOPE_SHARED_WORKER=1) queue for it, and the sweep says so once per run', () => {
    const r = cli(['sweep', '--preset', 'tiny', '--strategy', 'none', '--seeds', '1,2,3', '--steps', '2', '--backend', 'wasm',
      '--eval-every', '0', '--checkpoint-every', '0', '--out', join(tmp.dir, 'shared'), '--json'], { LOADSCOPE_SHARED_WORKER: '1' });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'summary', status: 'done', runs: 3, completed: 3 });
    // the first run starts at once; the two behind it are told their place and what they wait for, once each
    const told = r.stderr.split('\n').filter((l) => /queued \(position \d, one run at a time on the shared engine worker\)/.test(l));
    expect(told).toHaveLength(2);
    expect(new Set(told.map((l) => l.split(' ')[2])).size).toBe(2);
  }, 300_000);
});
