// Helpers of the fault-injection tests: the CLI as a child process (from sources), tmpfs mounts, run files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');

export const TINY = ['--preset', 'tiny', '--strategy', 'bip', '--set', 'T=4', '--seed', '1', '--data', 'synthetic', '--backend', 'wasm', '--eval-every', '0'];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}, timeout = 200_000): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, LOADSCOPE_FROM_SOURCE: '1', ...env }, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, LOADSCOPE_FROM_SOURCE: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? '';
export const hasStack = (s: string): boolean => /\n\s+at /.test(s) || /internal error/.test(s);

/** Mount a tmpfs of `size` (e.g. "13m") at dir; false where this process may not mount. */
export function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}
export const remountTmpfs = (dir: string, size: string): boolean => spawnSync('mount', ['-o', `remount,size=${size}`, dir], { stdio: 'ignore' }).status === 0;
export const umount = (dir: string): void => void spawnSync('umount', [dir], { stdio: 'ignore' });

/** Every file under dir (relative paths), for "nothing but complete records" checks. */
export function allFiles(dir: string, rel = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...allFiles(join(dir, e.name), r));
    else out.push(r);
  }
  return out;
}

/** steps.jsonl as step numbers (throws on a torn or garbled line). */
export function stepsOf(runDir: string): number[] {
  const text = readFileSync(join(runDir, 'steps.jsonl'), 'utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('steps.jsonl ends in a torn line');
  return text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { step: number }).step);
}

export const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
