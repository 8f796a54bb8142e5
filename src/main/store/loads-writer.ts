// Write side of loads.bin and its summary pyramid: one fixed-size, checksummed record per step.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readAt, writeAllSync } from './fs-util';
import {
  DTYPE_UINT16,
  FILES,
  HEADER_BYTES,
  SUMMARY_BLOCKS,
  encodeLoadsHeader,
  encodeSummaryHeader,
  loadsRecordBytes,
  recordOk,
  sealRecord,
  summaryFile,
  summaryHeaderMatches,
  summaryRecordBytes,
  type LoadsHeader,
} from './format';
import { LoadsFile, decodeValues } from './loads-file';
import { computeBlockRecord, encodeBlock } from './summary';

interface LevelAcc {
  blockRows: number;
  fd: number;
  sum: Float64Array;
  max: Float32Array;
  rows: number;
  firstStep: number;
  blocks: number;
}

export class LoadsAppender {
  private fd: number;
  private rec: Buffer;
  private values: Float32Array | Uint16Array;
  private levels: LevelAcc[] = [];
  private cells: number;
  rows: number;

  private constructor(
    dir: string,
    readonly header: Omit<LoadsHeader, 'version'>,
    rows: number,
  ) {
    this.cells = header.layers * header.experts;
    this.rows = rows;
    this.fd = openSync(join(dir, FILES.loads), 'a');
    // one reusable record: u32 step | values | u32 crc (values start at byte 4, aligned for both dtypes)
    const ab = new ArrayBuffer(loadsRecordBytes(header));
    this.rec = Buffer.from(ab);
    this.values = header.dtype === DTYPE_UINT16 ? new Uint16Array(ab, 4, this.cells) : new Float32Array(ab, 4, this.cells);
  }

  /** A new, empty loads.bin and summary files. */
  static create(dir: string, header: Omit<LoadsHeader, 'version'>): LoadsAppender {
    const fd = openSync(join(dir, FILES.loads), 'wx');
    try {
      writeAllSync(fd, encodeLoadsHeader(header));
    } finally {
      closeSync(fd);
    }
    const a = new LoadsAppender(dir, header, 0);
    for (const s of SUMMARY_BLOCKS) a.levels.push(a.openLevel(dir, s, 0));
    return a;
  }

  /**
   * Continue an existing loads.bin whose tail was already cut to `rows` valid records: summary files are
   * checked against it, short or missing ones completed, and the partial blocks' sums rebuilt.
   */
  static reopen(dir: string, loads: LoadsFile): LoadsAppender {
    const a = new LoadsAppender(dir, loads.header, loads.rows);
    for (const s of SUMMARY_BLOCKS) {
      const complete = Math.floor(loads.rows / s);
      const lv = a.openLevel(dir, s, complete);
      const rb = summaryRecordBytes(loads.header.layers, loads.header.experts);
      let onDisk = Math.max(0, Math.floor((fstatSync(lv.fd).size - HEADER_BYTES) / rb));
      onDisk = Math.min(onDisk, complete);
      while (onDisk > 0 && !recordOk(readAt(lv.fd, HEADER_BYTES + (onDisk - 1) * rb, rb))) onDisk--;
      ftruncateSync(lv.fd, HEADER_BYTES + onDisk * rb);
      for (let b = onDisk; b < complete; b++) {
        const rec = computeBlockRecord(loads, s, b);
        writeAllSync(lv.fd, rec, HEADER_BYTES + b * rb);
      }
      lv.blocks = complete;
      // the rows of the unfinished block go back into the accumulator
      const r0 = complete * s;
      if (r0 < loads.rows) {
        const buf = loads.readRecords(r0, loads.rows);
        const row = new Float32Array(a.cells);
        for (let r = r0; r < loads.rows; r++) {
          decodeValues(buf, (r - r0) * loads.recordBytes + 4, a.cells, loads.header.dtype, row);
          a.accumulate(lv, row, buf.readUInt32LE((r - r0) * loads.recordBytes));
        }
      }
      a.levels.push(lv);
    }
    return a;
  }

  private openLevel(dir: string, blockRows: number, blocks: number): LevelAcc {
    const path = join(dir, summaryFile(blockRows));
    const fresh = !existsSync(path);
    const fd = openSync(path, fresh ? 'w+' : 'r+');
    const header = encodeSummaryHeader(this.header.layers, this.header.experts, blockRows);
    if (fresh || !summaryHeaderMatches(readAt(fd, 0, HEADER_BYTES), this.header.layers, this.header.experts, blockRows)) {
      ftruncateSync(fd, 0);
      writeAllSync(fd, header, 0);
    }
    const cells = this.cells;
    return { blockRows, fd, sum: new Float64Array(cells), max: new Float32Array(cells).fill(-Infinity), rows: 0, firstStep: 0, blocks };
  }

  /** Append one step's loads (layer-major L×E counts). */
  append(step: number, loadsLE: Float32Array): void {
    if (loadsLE.length !== this.cells) throw new Error(`loads of step ${step} have ${loadsLE.length} values, expected ${this.header.layers}×${this.header.experts}`);
    if (this.header.dtype === DTYPE_UINT16) {
      for (const v of loadsLE) if (!(Number.isInteger(v) && v >= 0 && v <= 65535)) throw new Error(`loads of step ${step}: ${v} does not fit this run's uint16 loads file`);
    }
    this.rec.writeUInt32LE(step, 0);
    this.values.set(loadsLE);
    sealRecord(this.rec);
    const before = HEADER_BYTES + this.rows * this.rec.length;
    try {
      writeAllSync(this.fd, this.rec);
    } catch (err) {
      // a short record must not stay: cut it off (open drops it anyway if this fails too)
      try {
        ftruncateSync(this.fd, before);
      } catch {
        // nothing more to do
      }
      throw err;
    }
    this.rows++;
    for (const lv of this.levels) this.accumulate(lv, loadsLE, step);
  }

  private accumulate(lv: LevelAcc, loadsLE: Float32Array, step: number): void {
    if (lv.rows === 0) lv.firstStep = step;
    const { sum, max } = lv;
    for (let c = 0; c < this.cells; c++) {
      const v = loadsLE[c]!;
      sum[c]! += v;
      if (v > max[c]!) max[c] = v;
    }
    if (++lv.rows < lv.blockRows) return;
    const rec = encodeBlock(this.header.layers, this.header.experts, lv.blocks, lv.firstStep, step, sum, max, lv.rows);
    // explicit position: the file is opened r+ (its header may need rewriting), not in append mode
    writeAllSync(lv.fd, rec, HEADER_BYTES + lv.blocks * rec.length);
    lv.blocks++;
    lv.rows = 0;
    sum.fill(0);
    max.fill(-Infinity);
  }

  sync(): void {
    fsyncSync(this.fd);
    for (const lv of this.levels) fsyncSync(lv.fd);
  }

  /** Close every fd, even when one close fails. */
  close(): void {
    let first: unknown = null;
    for (const fd of [this.fd, ...this.levels.map((lv) => lv.fd)]) {
      try {
        closeSync(fd);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}
