// File helpers of the run store: atomic replace, directory fsync, positioned reads, locks.
import { closeSync, fsyncSync, openSync, readSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** fsync a directory so a rename inside it survives a power loss (no-op where directories cannot be opened). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Replace a file atomically: write a temporary file, fsync it, rename over the target, fsync the folder. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  fsyncDir(dirname(path));
}

/** writeFileAtomic, synchronously (status changes happen inside synchronous calls). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Read `length` bytes at `position` (fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

export function readJsonFile(path: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!existsSync(path)) return { ok: false, error: 'missing' };
  try {
    return { ok: true, value: JSON.parse(readFileSync(path, 'utf8')) };
  } catch (err) {
    return { ok: false, error: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
}

// ---- writer lock: who is appending to a run, so a crash (status 'running', writer gone) can be told apart ----

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** Run folders with an open writer in this process (a stale lock from an earlier process may carry our pid). */
export const openWritersHere = new Set<string>();

export function readLock(dir: string): LockInfo | null {
  const r = readJsonFile(join(dir, 'writer.lock'));
  if (!r.ok || typeof r.value !== 'object' || r.value === null) return null;
  const v = r.value as Partial<LockInfo>;
  return typeof v.pid === 'number' && typeof v.host === 'string' ? { pid: v.pid, host: v.host, startedAt: String(v.startedAt ?? '') } : null;
}

/** Is a writer appending to this folder right now? */
export function writerAlive(dir: string): boolean {
  if (openWritersHere.has(dir)) return true;
  const lock = readLock(dir);
  if (!lock) return false;
  if (lock.host !== hostname()) return true; // another machine on a shared disk: assume it is alive
  if (lock.pid === process.pid) return false;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockContent(): string {
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  return JSON.stringify(info);
}
