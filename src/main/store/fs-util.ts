// File helpers of the run store: checked writes, atomic replace, directory fsync, positioned reads, locks.
import { closeSync, fsyncSync, openSync, readSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

// ---- checked writes: a short write or an error is never taken for success ----

/**
 * TEST-ONLY fault hook: with LOADSCOPE_FAULT_ENOSPC_AFTER_BYTES=N every store write after the first N bytes
 * this process wrote fails with ENOSPC (a full disk where a small tmpfs cannot be mounted). Never set it
 * in normal use.
 */
let faultBudget: number | null = (() => {
  const v = process.env.LOADSCOPE_FAULT_ENOSPC_AFTER_BYTES;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
})();

/** Set the test-only fault budget from a test in this process (null: off). */
export function setFaultBudget(bytes: number | null): void {
  faultBudget = bytes;
}

function faultCheck(len: number): number {
  if (faultBudget === null) return len;
  if (faultBudget <= 0) {
    const err = new Error('ENOSPC: no space left on device, write (injected by LOADSCOPE_FAULT_ENOSPC_AFTER_BYTES)') as NodeJS.ErrnoException;
    err.code = 'ENOSPC';
    throw err;
  }
  const n = Math.min(len, faultBudget);
  faultBudget -= n;
  return n;
}

/** A removed temp file gives its bytes back to the injected "disk" (as deleting frees a real one). */
function faultRefund(bytes: number): void {
  if (faultBudget !== null) faultBudget += bytes;
}

function shortWrite(wrote: number, wanted: number): NodeJS.ErrnoException {
  const err = new Error(`ENOSPC: no space left on device, short write (${wrote} of ${wanted} bytes)`) as NodeJS.ErrnoException;
  err.code = 'ENOSPC';
  return err;
}

/** Write all of `data` at `position` (or the file position): loops over partial writes, throws on a stall. */
export function writeAllSync(fd: number, data: string | Uint8Array, position?: number): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < buf.length) {
    const want = faultCheck(buf.length - done);
    const n = writeSync(fd, buf, done, want, position === undefined ? null : position + done);
    if (n <= 0) throw shortWrite(done, buf.length);
    done += n;
  }
}

/** Errors that mean the disk cannot take the run any more (the run fails with this reason). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT' || code === 'EROFS';
}

/** A temp name of its own for every write: concurrent writers of one file never share one. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

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

/**
 * Replace a file atomically: write a temporary file, fsync it, rename over the target, fsync the folder.
 * Async (checkpoints are written from the training loop's event loop); the temp file goes on any failure.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempNameFor(path);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  try {
    const fh = await open(tmp, 'wx');
    try {
      while (done < buf.length) {
        const want = faultCheck(buf.length - done);
        const { bytesWritten } = await fh.write(buf, done, want, null);
        if (bytesWritten <= 0) throw shortWrite(done, buf.length);
        done += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).then(() => faultRefund(done), () => undefined);
    throw err;
  }
  fsyncDir(dirname(path));
}

/** writeFileAtomic, synchronously (status changes happen inside synchronous calls). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(path);
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeAllSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    faultRefund(bytes);
    throw err;
  }
  fsyncDir(dirname(path));
}

/** Remove left-over temp files (".<name>.tmp-…") in a folder: frees space after a failed write. */
export function removeTempFiles(dir: string): number {
  let n = 0;
  try {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.') && name.includes('.tmp')) {
        faultRefund(statSync(join(dir, name)).size);
        rmSync(join(dir, name), { force: true });
        n++;
      }
    }
  } catch {
    // the folder is gone or unreadable: nothing to free
  }
  return n;
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

/**
 * Take the writer lock of a run folder with an exclusive create ('wx'): of concurrent writers exactly one
 * wins. A lock left by a dead process of this host (or by this process without an open writer) is stale
 * and is replaced; returns false when a live writer holds it.
 */
export function acquireLock(dir: string): boolean {
  const path = join(dir, 'writer.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const lock = readLock(dir);
      // unreadable or half-written lock: another writer may be writing it right now, unless it is old
      if (!lock && Date.now() - safeMtime(path) < 5000) return false;
      if (lock && writerAlive(dir)) return false;
      // stale: rename it away first so two processes cannot both delete and re-create it
      const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        renameSync(path, aside);
        rmSync(aside, { force: true });
      } catch {
        // another process took it away first; try again
      }
      continue;
    }
    try {
      writeAllSync(fd, lockContent());
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw err;
    }
    closeSync(fd);
    openWritersHere.add(dir);
    return true;
  }
  return false;
}

/** Give the writer lock of a folder back (this process holds it). */
export function releaseLock(dir: string): void {
  rmSync(join(dir, 'writer.lock'), { force: true });
  openWritersHere.delete(dir);
}

function safeMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
