// The loads pyramid: per-block mean and max of every (layer, expert), written as rows are appended, so a
// heatmap over 100,000 steps reads a few thousand small slices instead of the whole loads.bin.
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readAt } from './fs-util';
import { HEADER_BYTES, SUMMARY_BLOCKS, SUMMARY_PREFIX, recordOk, sealRecord, summaryFile, summaryHeaderMatches, summaryRecordBytes } from './format';
import { decodeValues, type LoadsFile } from './loads-file';

/** Running per-bucket aggregate of one layer: sum and max of each expert's load over `count` rows. */
export interface Agg {
  sum: Float64Array;
  max: Float64Array;
  count: number;
}
export const newAgg = (experts: number): Agg => ({ sum: new Float64Array(experts), max: new Float64Array(experts).fill(-Infinity), count: 0 });

/** A summary record (all layers) of rows [block·s, (block+1)·s) computed from loads.bin. */
export function computeBlockRecord(loads: LoadsFile, blockRows: number, block: number): Buffer {
  const { layers, experts, dtype } = loads.header;
  const cells = layers * experts;
  const sum = new Float64Array(cells);
  const max = new Float32Array(cells).fill(-Infinity);
  const r0 = block * blockRows;
  const buf = loads.readRecords(r0, r0 + blockRows);
  const row = new Float32Array(cells);
  let used = 0;
  for (let i = 0; i < blockRows; i++) {
    if (loads.badRows.has(r0 + i)) continue;
    decodeValues(buf, i * loads.recordBytes + 4, cells, dtype, row);
    used++;
    for (let c = 0; c < cells; c++) {
      sum[c]! += row[c]!;
      if (row[c]! > max[c]!) max[c] = row[c]!;
    }
  }
  const firstStep = buf.readUInt32LE(0);
  const lastStep = buf.readUInt32LE((blockRows - 1) * loads.recordBytes);
  return encodeBlock(layers, experts, block, firstStep, lastStep, sum, max, used);
}

/** Encode a summary record from sums (divided by `rows` into means) and maxima, layer-major inputs. */
export function encodeBlock(layers: number, experts: number, block: number, firstStep: number, lastStep: number, sum: Float64Array, max: Float32Array, rows: number): Buffer {
  const rec = Buffer.alloc(summaryRecordBytes(layers, experts));
  rec.writeUInt32LE(block, 0);
  rec.writeUInt32LE(firstStep, 4);
  rec.writeUInt32LE(lastStep, 8);
  for (let l = 0; l < layers; l++) {
    const base = SUMMARY_PREFIX + l * experts * 8;
    for (let e = 0; e < experts; e++) {
      const c = l * experts + e;
      rec.writeFloatLE(rows > 0 ? sum[c]! / rows : NaN, base + 4 * e);
      rec.writeFloatLE(rows > 0 ? max[c]! : NaN, base + 4 * (experts + e));
    }
  }
  sealRecord(rec);
  return rec;
}

interface Level {
  blockRows: number;
  fd: number | null;
  /** valid records in the file (blocks past it are computed from loads.bin and cached) */
  onDisk: number;
  cache: Map<number, Buffer>;
  /** on-disk blocks whose CRC was checked and found right (checked once, on first use) */
  verified: Set<number>;
  /** blocks whose CRC was wrong: rebuilt from loads.bin (reported once per file) */
  garbled: number;
}

/** Read side of the pyramid over one LoadsFile. Missing or short summary files are made up in memory. */
export class SummaryReader {
  private levels: Level[];
  readonly issues: string[] = [];
  private recordBytes: number;

  constructor(
    dir: string,
    private loads: LoadsFile,
  ) {
    const { layers, experts } = loads.header;
    this.recordBytes = summaryRecordBytes(layers, experts);
    this.levels = SUMMARY_BLOCKS.map((blockRows) => {
      const path = join(dir, summaryFile(blockRows));
      const level: Level = { blockRows, fd: null, onDisk: 0, cache: new Map(), verified: new Set(), garbled: 0 };
      if (!existsSync(path)) return level;
      const fd = openSync(path, 'r');
      if (!summaryHeaderMatches(readAt(fd, 0, HEADER_BYTES), layers, experts, blockRows)) {
        this.issues.push(`${summaryFile(blockRows)}: header does not match loads.bin; summary rebuilt in memory`);
        closeSync(fd);
        return level;
      }
      level.fd = fd;
      return level;
    });
    this.refresh();
  }

  /** Count valid records again (the writer appends as it goes). */
  refresh(): void {
    for (const lv of this.levels) {
      if (lv.fd === null) continue;
      const size = fstatSync(lv.fd).size;
      let n = Math.max(0, Math.floor((size - HEADER_BYTES) / this.recordBytes));
      while (n > lv.onDisk && !recordOk(readAt(lv.fd, HEADER_BYTES + (n - 1) * this.recordBytes, this.recordBytes))) n--;
      lv.onDisk = n;
    }
  }

  /** Add the loads of rows [a, e) of one layer into agg, using the coarsest whole blocks inside the range. */
  aggregate(layer: number, a: number, e: number, agg: Agg): void {
    for (let li = this.levels.length - 1; li >= 0; li--) {
      const s = this.levels[li]!.blockRows;
      const A = Math.ceil(a / s) * s;
      const B = Math.floor(e / s) * s;
      if (A < B) {
        this.aggregate(layer, a, A, agg);
        for (let b = A / s; b < B / s; b++) this.addBlock(li, b, layer, agg);
        this.aggregate(layer, B, e, agg);
        return;
      }
    }
    if (a >= e) return;
    this.loads.forEachLayerRow(layer, a, e, (_r, _step, loadE) => addRow(agg, loadE));
  }

  private addBlock(li: number, block: number, layer: number, agg: Agg): void {
    const lv = this.levels[li]!;
    const E = this.loads.header.experts;
    const at = SUMMARY_PREFIX + layer * E * 8;
    let buf: Buffer;
    let off: number;
    // blocks inside the valid rows only (the file may hold a block of rows not committed yet)
    if (lv.fd !== null && block < lv.onDisk && this.blockOk(lv, block)) {
      buf = readAt(lv.fd, HEADER_BYTES + block * this.recordBytes + at, E * 8);
      off = 0;
    } else {
      let rec = lv.cache.get(block);
      if (!rec) {
        rec = computeBlockRecord(this.loads, lv.blockRows, block);
        lv.cache.set(block, rec);
      }
      buf = rec;
      off = at;
    }
    let rows = lv.blockRows;
    for (let e = 0; e < E; e++) {
      const mean = buf.readFloatLE(off + 4 * e);
      const mx = buf.readFloatLE(off + 4 * (E + e));
      if (Number.isNaN(mean)) {
        rows = 0;
        break;
      }
      agg.sum[e]! += mean * lv.blockRows;
      if (mx > agg.max[e]!) agg.max[e] = mx;
    }
    agg.count += rows;
  }

  /** Is an on-disk block's CRC right? A wrong one is rebuilt from loads.bin, with a warning. */
  private blockOk(lv: Level, block: number): boolean {
    if (lv.verified.has(block)) return true;
    if (lv.cache.has(block)) return false;
    if (recordOk(readAt(lv.fd!, HEADER_BYTES + block * this.recordBytes, this.recordBytes))) {
      lv.verified.add(block);
      return true;
    }
    if (lv.garbled++ === 0) this.issues.push(`${summaryFile(lv.blockRows)}: block ${block} fails its checksum (garbled); its values are rebuilt from loads.bin`);
    lv.cache.set(block, computeBlockRecord(this.loads, lv.blockRows, block));
    return false;
  }

  /** Drop what is known about blocks at or past this row count (after rows were capped). */
  capRows(rows: number): void {
    for (const lv of this.levels) {
      const blocks = Math.floor(rows / lv.blockRows);
      if (lv.onDisk > blocks) lv.onDisk = blocks;
      for (const b of lv.cache.keys()) if (b >= blocks) lv.cache.delete(b);
      for (const b of lv.verified) if (b >= blocks) lv.verified.delete(b);
    }
  }

  close(): void {
    for (const lv of this.levels) if (lv.fd !== null) closeSync(lv.fd);
  }
}

function addRow(agg: Agg, loadE: Float32Array): void {
  if (Number.isNaN(loadE[0]!)) return; // a garbled row
  for (let e = 0; e < loadE.length; e++) {
    agg.sum[e]! += loadE[e]!;
    if (loadE[e]! > agg.max[e]!) agg.max[e] = loadE[e]!;
  }
  agg.count++;
}
