// Fault #6: resume never loses a committed step: a torn last steps.jsonl line, and a run killed before its
// first checkpoint (it starts over from step 0).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempRunsDir, until } from '../fixtures/service-helpers';
import { TINY, cli, lastLine, range, root, stepsOf } from './cli-helpers';

const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

describe('6 resume gaps', () => {
  it('6 resume gaps: a torn last steps line resumes from the newest checkpoint at or before the last committed step, with no step missing', () => {
    const first = cli(['train', ...TINY, '--steps', '8', '--checkpoint-every', '4', '--out', tmp.dir, '--json']);
    expect(first.code).toBe(0);
    const { runDir } = JSON.parse(lastLine(first.stdout)) as { runDir: string };
    // tear the line of step 8 (a crash mid-write): step 8 is no longer committed, its checkpoint unusable
    const steps = join(runDir, 'steps.jsonl');
    truncateSync(steps, statSync(steps).size - 10);
    const again = cli(['train', '--resume', runDir, '--steps', '12', '--json']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(stepsOf(runDir)).toEqual(range(1, 12));
  }, 240_000);

  it('6 resume gaps: a run killed before its first checkpoint resumes from step 0', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'loadscope.mjs'), 'train', ...TINY, '--steps', '300', '--checkpoint-every', '0', '--out', tmp.dir, '--json'], { cwd: root, env: { ...process.env, LOADSCOPE_FROM_SOURCE: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.on('exit', r));
    await until('two steps', () => out.split('\n').filter((l) => l.includes('"type":"step"')).length >= 2, 120_000);
    child.kill('SIGKILL');
    await exited;
    const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { status: string; runId: string };
    const dir = readdirSync(tmp.dir).map((n) => join(tmp.dir, n)).find((d) => meta(d).status === 'running')!;
    expect(dir).toBeDefined();
    const again = cli(['train', '--resume', dir, '--steps', '5', '--json']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(JSON.parse(lastLine(again.stdout))).toMatchObject({ status: 'completed', steps: 5 });
    expect(stepsOf(dir)).toEqual(range(1, 5));
  }, 240_000);
});
