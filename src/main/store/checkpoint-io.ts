// Checkpoint files: binary layout (docs/run-format.md), atomic write, listing, keep-last-K pruning.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { CheckpointData, NamedArray } from '../../shared/worker-protocol';
import type { CheckpointInfo } from '../../shared/ipc-contract';
import { CHECKPOINT_FILE, checkpointFileName } from './format';
import { fsyncDir, readAt, writeFileAtomic } from './fs-util';

const MAGIC = 'LSCKPT01';
const END = 'LSCE';

interface ArrayEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  byteLength: number;
}
interface CkptHeader {
  step: number;
  createdAt: string;
  reason: string;
  meta: Record<string, unknown>;
  arrays: ArrayEntry[];
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * magic "LSCKPT01" | u32 version 1 | u32 H | H bytes of JSON header (space-padded so the data starts at a
 * multiple of 8) | arrays' bytes, each at header.arrays[i].offset (from the data start, 8-aligned) |
 * u32 crc32 of everything before it | "LSCE".
 */
export function encodeCheckpoint(c: CheckpointData, reason: string, createdAt: string): Buffer {
  let offset = 0;
  const arrays: ArrayEntry[] = c.arrays.map((a) => {
    const e = { name: a.name, shape: a.shape, dtype: a.dtype, offset, byteLength: a.data.byteLength };
    offset = align8(offset + a.data.byteLength);
    return e;
  });
  const header: CkptHeader = { step: c.step, createdAt, reason, meta: c.meta, arrays };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = align8(16 + json.length) - 16;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const dataStart = 16 + json.length;
  const out = Buffer.alloc(dataStart + offset + 8);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(1, 8);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, 16);
  c.arrays.forEach((a, i) => {
    out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), dataStart + arrays[i]!.offset);
  });
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 8)), out.length - 8);
  out.write(END, out.length - 4, 'ascii');
  return out;
}

export function decodeCheckpoint(buf: Buffer, label: string): CheckpointData {
  const header = readHeader(buf, label);
  if (buf.length < 24 || buf.toString('ascii', buf.length - 4) !== END) throw new Error(`${label}: truncated (no end marker)`);
  if (crc32(buf.subarray(0, buf.length - 8)) !== buf.readUInt32LE(buf.length - 8)) throw new Error(`${label}: checksum mismatch (garbled)`);
  const dataStart = 16 + buf.readUInt32LE(12);
  const arrays: NamedArray[] = header.arrays.map((e) => {
    // copy into a fresh, aligned buffer: the caller owns it and may transfer it to a worker
    const bytes = new Uint8Array(e.byteLength);
    bytes.set(buf.subarray(dataStart + e.offset, dataStart + e.offset + e.byteLength));
    const data = e.dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    return { name: e.name, shape: e.shape, dtype: e.dtype, data };
  });
  return { step: header.step, arrays, meta: header.meta };
}

function readHeader(buf: Buffer, label: string): CkptHeader {
  if (buf.length < 16 || buf.toString('ascii', 0, 8) !== MAGIC) throw new Error(`${label}: not a checkpoint (bad magic)`);
  const h = buf.readUInt32LE(12);
  if (buf.length < 16 + h) throw new Error(`${label}: truncated header`);
  try {
    const header = JSON.parse(buf.toString('utf8', 16, 16 + h)) as CkptHeader;
    if (typeof header.step !== 'number' || !Array.isArray(header.arrays)) throw new Error('missing step or arrays');
    return header;
  } catch (err) {
    throw new Error(`${label}: bad header (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

/** Write atomically into dir/checkpoints: temporary file, fsync, rename, fsync the folder. */
export async function writeCheckpointFile(dir: string, c: CheckpointData, reason: string): Promise<CheckpointInfo> {
  const cdir = join(dir, 'checkpoints');
  await mkdir(cdir, { recursive: true });
  const createdAt = new Date().toISOString();
  const bytes = encodeCheckpoint(c, reason, createdAt);
  // temp file + fsync + rename + fsync of the folder: a kill mid-write leaves only a .tmp file, reported on open
  await writeFileAtomic(join(cdir, checkpointFileName(c.step)), bytes);
  return { step: c.step, createdAt, bytes: bytes.length, reason };
}

/** Checkpoints of a run, oldest first; unreadable files and left-over temporary files are reported. */
export function listCheckpointFiles(dir: string, issues: string[]): CheckpointInfo[] {
  const cdir = join(dir, 'checkpoints');
  if (!existsSync(cdir)) return [];
  const out: CheckpointInfo[] = [];
  for (const name of readdirSync(cdir).sort()) {
    const m = CHECKPOINT_FILE.exec(name);
    if (!m) {
      if (name.includes('.tmp')) issues.push(`checkpoints/${name}: an incomplete checkpoint (its write was interrupted); ignored`);
      continue;
    }
    const fd = openSync(join(cdir, name), 'r');
    try {
      const size = fstatSync(fd).size;
      const head = readAt(fd, 0, 16);
      const h = head.length === 16 ? head.readUInt32LE(12) : 0;
      const header = readHeader(Buffer.concat([head, readAt(fd, 16, Math.min(h, Math.max(0, size - 16)))]), `checkpoints/${name}`);
      out.push({ step: header.step, createdAt: header.createdAt, bytes: size, reason: header.reason });
    } catch (err) {
      issues.push(`${err instanceof Error ? err.message : String(err)}; ignored`);
    } finally {
      closeSync(fd);
    }
  }
  return out.sort((a, b) => a.step - b.step);
}

export async function readCheckpointFile(dir: string, step: number): Promise<CheckpointData> {
  const name = checkpointFileName(step);
  const path = join(dir, 'checkpoints', name);
  if (!existsSync(path)) throw new Error(`no checkpoint at step ${step}`);
  return decodeCheckpoint(await readFile(path), `checkpoints/${name}`);
}

/** Keep the newest `keep` checkpoints (by step); the newest is never deleted. Returns the steps removed. */
export function pruneCheckpoints(dir: string, keep: number): number[] {
  const all = listCheckpointFiles(dir, []);
  const excess = all.slice(0, Math.max(0, all.length - Math.max(1, keep)));
  for (const c of excess) rmSync(join(dir, 'checkpoints', checkpointFileName(c.step)), { force: true });
  if (excess.length > 0) fsyncDir(join(dir, 'checkpoints'));
  return excess.map((c) => c.step);
}
