// `loadscope runs list|show|export|rename|delete` against a temporary runs folder.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import runs from '../../src/cli/commands/runs';
import { RunStore } from '../../src/main/store/run-store';
import { smallConfig, stepReport, tempRoot } from '../unit/store/helpers';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => {
  vi.restoreAllMocks();
  cleanup();
});

async function makeRun(name: string, steps: number): Promise<string> {
  const w = await new RunStore(root).create(smallConfig(), { name });
  for (let s = 1; s <= steps; s++) w.appendStep(stepReport(s, 2, 4, (st, l, e) => st + 10 * l + e));
  w.appendEval({ step: steps, valLoss: 2, valPerplexity: 7.39, valMaxVioL: [0.5, 0.25], valMaxVio: 0.375 });
  w.appendTopTokens({ step: steps, tokens: [[[[97, 5]], [], [], []], [[], [], [], [[32, 9], [101, 2]]]] });
  w.setStatus('completed');
  await w.close();
  return w.runId;
}

/** run the command in-process, capturing stdout */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ') + '\n'));
  const writes = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write);
  try {
    const code = await runs([...argv, '--runs', root]);
    return { code, out: out.join('') };
  } finally {
    writes.mockRestore();
    vi.restoreAllMocks();
  }
}

describe('loadscope runs', () => {
  it('list (table and --json) and show', async () => {
    const id = await makeRun('baseline', 20);
    const table = await cli('list');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(new RegExp(`${id}\\s+baseline\\s+completed\\s+none\\s+tiny\\s+20/300\\s+0\\.100\\s+0\\.200\\s+7\\.39`));
    const json = JSON.parse((await cli('list', '--json')).out);
    expect(json).toEqual([expect.objectContaining({ runId: id, name: 'baseline', steps: 20, avgMaxVio: 0.1, supMaxVio: 0.2, perplexity: 7.39, warnings: [] })]);
    const shown = await cli('show', id);
    expect(shown.out).toMatch(/steps\s+20 \/ 300/);
    expect(shown.out).toMatch(/2 layers × 4 experts, top-1/);
    expect(JSON.parse((await cli('show', id, '--json')).out).lastStep).toBe(20);
  });

  it('export: scalars, loads, eval and top-tokens as CSV and JSON, to stdout or a file', async () => {
    const id = await makeRun('x', 3);
    const csv = (await cli('export', id, '--series', 'loads', '--format', 'csv')).out.trim().split('\n');
    // one line per step × layer: step 2, layer 1 → 2 + 10 + e
    expect(csv[0]).toBe('step,layer,e0,e1,e2,e3');
    expect(csv).toHaveLength(1 + 3 * 2);
    expect(csv[4]).toBe('2,1,12,13,14,15');
    const loads = JSON.parse((await cli('export', id, '--series', 'loads', '--format', 'json')).out);
    expect(loads.rows[2]).toEqual({ step: 3, loadsLE: [3, 4, 5, 6, 13, 14, 15, 16] });
    const scalars = (await cli('export', id, '--series', 'scalars', '--format', 'csv')).out.trim().split('\n');
    expect(scalars[0]!.split(',').slice(0, 3)).toEqual(['step', 'loss', 'auxLoss']);
    expect(scalars[2]!.split(',').slice(0, 2)).toEqual(['2', String(5 - 2 / 1000)]);
    const evals = JSON.parse((await cli('export', id, '--series', 'eval', '--format', 'json')).out);
    expect(evals).toEqual([{ step: 3, valLoss: 2, valPerplexity: 7.39, valMaxVioL: [0.5, 0.25], valMaxVio: 0.375 }]);
    const out = join(root, 'tt.csv');
    expect((await cli('export', id, '--series', 'top-tokens', '--format', 'csv', '--out', out)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('step,layer,expert,rank,byte,count\n3,0,0,0,97,5\n3,1,3,0,32,9\n3,1,3,1,101,2\n');
    await expect(cli('export', id, '--series', 'nope', '--format', 'csv')).rejects.toThrow(/--series must be one of/);
  });

  it('rename; delete needs --yes without a terminal; unknown runs are one clear error', async () => {
    const id = await makeRun('old', 1);
    expect((await cli('rename', id, 'new name')).code).toBe(0);
    expect((await new RunStore(root).list())[0]!.name).toBe('new name');
    // vitest's stdin is not a terminal
    await expect(cli('delete', id)).rejects.toThrow(/refusing to delete .* pass --yes/);
    expect(existsSync(join(root, id))).toBe(true);
    expect((await cli('delete', id, '--yes')).code).toBe(0);
    expect(existsSync(join(root, id))).toBe(false);
    await expect(cli('show', id)).rejects.toThrow(/no run/);
  });

  it('the real binary prints one line for a user error and exits 2 without --yes', async () => {
    const id = await makeRun('bin', 1);
    const bin = join(process.cwd(), 'bin', 'loadscope.mjs');
    const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1', LOADSCOPE_RUNS_DIR: root };
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'runs', 'list', '--json'], { env });
    expect(JSON.parse(stdout)[0].runId).toBe(id);
    const err = await promisify(execFile)(process.execPath, [bin, 'runs', 'delete', id], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr.trim()).toBe(`loadscope: runs delete: refusing to delete ${id} without confirmation; pass --yes (stdin is not a terminal)`);
  });
});
