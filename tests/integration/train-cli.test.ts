// `loadscope train` end to end (a child process on the real engine, tiny preset): --json lines, flag
// errors naming the field, Ctrl-C writing a checkpoint, and --resume continuing the run.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/main/store/run-store';
import { tempRunsDir, until } from './fixtures/service-helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');
// from sources (tsx), so the test never runs a stale build
const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1' };
const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

const TINY = ['--preset', 'tiny', '--strategy', 'bip', '--set', 'T=4', '--seed', '1', '--data', 'synthetic', '--backend', 'wasm', '--eval-every', '0', '--checkpoint-every', '0'];

function train(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'train', ...args], { cwd: root, env, encoding: 'utf8', timeout: 200_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const jsonLines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('loadscope train', () => {
  it('--json prints one object per step and a final summary', () => {
    const r = train([...TINY, '--steps', '4', '--eval-every', '2', '--checkpoint-every', '2', '--out', tmp.dir, '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const steps = lines.filter((l) => l.type === 'step');
    expect(steps.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    for (const l of steps) for (const k of ['loss', 'maxVio', 'tokensPerSec']) expect(typeof l[k]).toBe('number');
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', status: 'completed', steps: 4, backend: 'wasm' });
    for (const k of ['tokensPerSecMedian', 'finalLoss', 'avgMaxVio', 'supMaxVio']) expect(typeof summary[k]).toBe('number');
    // the summary's AvgMaxVio is the mean of the per-step MaxVio values printed above
    const mean = steps.reduce((a, l) => a + (l.maxVio as number), 0) / steps.length;
    expect(summary.avgMaxVio as number).toBeCloseTo(mean, 5);
    expect(summary.finalLoss).toBe(steps.at(-1)!.loss);
  }, 240_000);

  it('a bad flag or value names the field and the allowed range', () => {
    const zero = train(['--steps', '0', '--out', tmp.dir]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--steps \(steps\):.*1/);
    const opt = train(['--strategy', 'bip', '--set', 'T=9999', '--out', tmp.dir]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/--set \(strategyOptions\): bip\.T: 9999 is outside \[/);
    const preset = train(['--preset', 'huge', '--out', tmp.dir]);
    expect(preset.stderr).toMatch(/--preset \(preset\):/);
    expect(preset.stderr).toMatch(/tiny/);
    const unknown = train(['--stepz', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--stepz/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /); // one clear line, no stack trace
  }, 240_000);

  it('Ctrl-C writes a checkpoint and says how to resume; --resume continues the run', async () => {
    const child = spawn(process.execPath, [bin, 'train', ...TINY, '--steps', '30', '--out', tmp.dir, '--json'], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('two steps', () => stdout.split('\n').filter((l) => l.includes('"type":"step"')).length >= 2, 90_000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const lines = jsonLines(stdout);
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', status: 'stopped' });
    const runDir = summary.runDir as string;
    const m = /checkpoint at step (\d+) in (.+)\n\s+resume with: loadscope train --resume (\S+) --steps 30/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const cpStep = Number(m![1]);
    expect(m![3]).toBe(runDir);
    const store = new RunStore(tmp.dir);
    const reader = await store.open(summary.runId as string);
    // the interrupt checkpoint is the last step the run reached (it stopped right after)
    expect(reader.listCheckpoints().map((c) => c.step)).toContain(cpStep);
    expect(cpStep).toBeGreaterThanOrEqual(2);
    expect(reader.meta.status).toBe('stopped');
    reader.close();

    const total = cpStep + 2;
    const resumed = train(['--resume', runDir, '--steps', String(total), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const more = jsonLines(resumed.stdout);
    expect(more.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([cpStep + 1, cpStep + 2]);
    expect(more.at(-1)).toMatchObject({ type: 'summary', status: 'completed', steps: total, runId: summary.runId });
    const after = await store.open(summary.runId as string);
    expect([after.lastStep, after.meta.status]).toEqual([total, 'completed']);
    expect(after.scalars({ maxPoints: 1000 }).steps).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    after.close();
    expect(readdirSync(tmp.dir)).toContain(summary.runId);
  }, 240_000);

  it('--resume refuses config flags and unknown checkpoints', () => {
    const r = train(['--resume', join(tmp.dir, 'nope'), '--strategy', 'bip']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/drop --strategy/);
  }, 240_000);
});
