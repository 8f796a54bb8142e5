// The run-folder format (docs/run-format.md): file names, binary headers and record layouts, version 1.
import { crc32 } from 'node:zlib';

export const FORMAT_VERSION = 1;

export const FILES = {
  meta: 'meta.json',
  config: 'config.json',
  steps: 'steps.jsonl',
  eval: 'eval.jsonl',
  topTokens: 'top-tokens.jsonl',
  loads: 'loads.bin',
  lock: 'writer.lock',
  checkpoints: 'checkpoints',
  backup: 'backup',
} as const;

/** Summary levels of the loads pyramid: one record per block of this many rows (a cache derived from loads.bin). */
export const SUMMARY_BLOCKS = [16, 256] as const;
export const summaryFile = (blockRows: number): string => `loads.sum${blockRows}.bin`;

export const HEADER_BYTES = 64;
export const LOADS_MAGIC = 'LSLOADS1';
export const SUMMARY_MAGIC = 'LSLSUM01';

export const DTYPE_FLOAT32 = 1;
export const DTYPE_UINT16 = 2;

/** Header of loads.bin: shape of every record and the ideal load k·T/E of one step (0 = unknown). */
export interface LoadsHeader {
  version: number;
  layers: number;
  experts: number;
  dtype: typeof DTYPE_FLOAT32 | typeof DTYPE_UINT16;
  idealLoad: number;
}

export const bytesPerValue = (dtype: number): number => (dtype === DTYPE_UINT16 ? 2 : 4);

/** loads.bin record: u32 step | L·E values | u32 crc32 of the bytes before it. */
export const loadsRecordBytes = (h: { layers: number; experts: number; dtype: number }): number => 8 + h.layers * h.experts * bytesPerValue(h.dtype);

/** summary record: u32 block | u32 firstStep | u32 lastStep | per layer (f32 mean ×E, f32 max ×E) | u32 crc32. */
export const SUMMARY_PREFIX = 12;
export const summaryRecordBytes = (layers: number, experts: number): number => SUMMARY_PREFIX + layers * experts * 8 + 4;

export function encodeLoadsHeader(h: Omit<LoadsHeader, 'version'>): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write(LOADS_MAGIC, 0, 'ascii');
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeUInt32LE(h.layers, 12);
  b.writeUInt32LE(h.experts, 16);
  b.writeUInt32LE(h.dtype, 20);
  b.writeDoubleLE(h.idealLoad, 24);
  return b;
}

/** Parse a loads.bin header; a string says what is wrong with it. */
export function decodeLoadsHeader(b: Buffer): LoadsHeader | string {
  if (b.length < HEADER_BYTES) return `header is ${b.length} bytes, expected ${HEADER_BYTES}`;
  if (b.toString('ascii', 0, 8) !== LOADS_MAGIC) return 'not a loads file (bad magic)';
  const version = b.readUInt32LE(8);
  if (version > FORMAT_VERSION) return `format version ${version} is newer than this Loadscope reads (${FORMAT_VERSION})`;
  const layers = b.readUInt32LE(12);
  const experts = b.readUInt32LE(16);
  const dtype = b.readUInt32LE(20);
  if (layers < 1 || layers > 4096 || experts < 1 || experts > 65536) return `implausible shape ${layers} layers × ${experts} experts`;
  if (dtype !== DTYPE_FLOAT32 && dtype !== DTYPE_UINT16) return `unknown dtype code ${dtype}`;
  const idealLoad = b.readDoubleLE(24);
  return { version, layers, experts, dtype, idealLoad: Number.isFinite(idealLoad) && idealLoad > 0 ? idealLoad : 0 };
}

export function encodeSummaryHeader(layers: number, experts: number, blockRows: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write(SUMMARY_MAGIC, 0, 'ascii');
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeUInt32LE(layers, 12);
  b.writeUInt32LE(experts, 16);
  b.writeUInt32LE(blockRows, 20);
  return b;
}

export function summaryHeaderMatches(b: Buffer, layers: number, experts: number, blockRows: number): boolean {
  return (
    b.length >= HEADER_BYTES &&
    b.toString('ascii', 0, 8) === SUMMARY_MAGIC &&
    b.readUInt32LE(12) === layers &&
    b.readUInt32LE(16) === experts &&
    b.readUInt32LE(20) === blockRows
  );
}

/** Does this record (crc in its last 4 bytes) check out? */
export function recordOk(rec: Buffer): boolean {
  return crc32(rec.subarray(0, rec.length - 4)) === rec.readUInt32LE(rec.length - 4);
}

/** Fill in the crc32 of a record whose other bytes are written. */
export function sealRecord(rec: Buffer): void {
  rec.writeUInt32LE(crc32(rec.subarray(0, rec.length - 4)), rec.length - 4);
}

/** ideal load of one step, k·T/E, from a resolved config (T = tokens per step = microBatches × batch × ctx). */
export function idealLoadOf(model: { topK: number; batch: number; ctx: number; experts: number }, microBatches = 1): number {
  return (model.topK * microBatches * model.batch * model.ctx) / model.experts;
}

const RUN_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Run ids name folders: the IPC contract's pattern, minus "." and "..". */
export function isValidRunId(id: string): boolean {
  return RUN_ID.test(id) && id !== '.' && id !== '..';
}

export const checkpointFileName = (step: number): string => `step-${String(step).padStart(10, '0')}.ckpt`;
export const CHECKPOINT_FILE = /^step-(\d{10})\.ckpt$/;
