// Read side of loads.bin: validation of the tail, step ↔ row lookup, exact rows and one-layer slices.
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { readAt } from './fs-util';
import { DTYPE_UINT16, HEADER_BYTES, bytesPerValue, decodeLoadsHeader, loadsRecordBytes, recordOk, type LoadsHeader } from './format';

/** Above this size the whole file is not checksummed on open (only its tail); rows read exactly are still checked. */
export const FULL_CHECK_BYTES = 32 << 20;

export class LoadsFile {
  readonly header: LoadsHeader;
  readonly recordBytes: number;
  readonly cells: number;
  /** complete, valid rows on disk (the reader may cap this to the committed steps) */
  rows = 0;
  readonly issues: string[] = [];
  /** rows in the middle that failed their checksum: read as NaN */
  readonly badRows = new Set<number>();
  private fd: number;
  private firstStep = 0;
  private lastStepCache = -1;

  private constructor(fd: number, header: LoadsHeader) {
    this.fd = fd;
    this.header = header;
    this.recordBytes = loadsRecordBytes(header);
    this.cells = header.layers * header.experts;
  }

  /** Open and validate; null (with the reason in `problems`) when there is no usable loads file. */
  static open(path: string, problems: string[], opts: { check: 'full' | 'auto' | 'tail'; final: boolean }): LoadsFile | null {
    if (!existsSync(path)) return null;
    const fd = openSync(path, 'r');
    const h = decodeLoadsHeader(readAt(fd, 0, HEADER_BYTES));
    if (typeof h === 'string') {
      closeSync(fd);
      problems.push(`loads.bin: ${h}; no per-expert loads shown`);
      return null;
    }
    const f = new LoadsFile(fd, h);
    f.refresh(opts.final, opts.check);
    return f;
  }

  /**
   * Take in rows appended since the last call; drop (and report) a torn or garbled tail. check: 'full'
   * checksums every new row, 'auto' only when the file is small, 'tail' only the last rows.
   */
  refresh(final: boolean, check: 'full' | 'auto' | 'tail' = 'tail'): void {
    const size = fstatSync(this.fd).size;
    let n = Math.floor((size - HEADER_BYTES) / this.recordBytes);
    const partial = size - HEADER_BYTES - n * this.recordBytes;
    if (n < this.rows) n = this.rows; // the file shrank under us: keep what was validated
    // walk back from the end over records that fail their checksum (a torn write that filled with zeros)
    let dropped = 0;
    while (n > this.rows && !recordOk(this.record(n - 1))) {
      n--;
      dropped++;
    }
    if (final && (dropped > 0 || partial > 0)) {
      const what = [dropped > 0 ? `${dropped} record(s) failing their checksum` : '', partial > 0 ? `a torn record of ${partial} bytes` : ''].filter(Boolean);
      this.issues.push(`loads.bin: dropped ${what.join(' and ')} at the end (a write was interrupted) after step ${n > 0 ? this.stepOf(n - 1) : 'none'}`);
    }
    if (check === 'full' || (check === 'auto' && size <= FULL_CHECK_BYTES)) {
      const before = this.badRows.size;
      for (let r = this.rows; r < n - 1; r++) {
        if (!recordOk(this.record(r))) this.badRows.add(r);
      }
      if (this.badRows.size > before) {
        const steps = [...this.badRows].slice(0, 5).map((r) => this.stepOf(r));
        this.issues.push(`loads.bin: ${this.badRows.size} record(s) in the middle fail their checksum (garbled; steps ${steps.join(', ')}${this.badRows.size > 5 ? ', …' : ''}); their loads are left out`);
      }
    }
    this.rows = n;
    this.lastStepCache = -1;
    if (n > 0) this.firstStep = this.stepOf(0);
  }

  /** Forget rows from `rows` on (uncommitted: after the last step in steps.jsonl). */
  capRows(rows: number): void {
    this.rows = Math.min(this.rows, rows);
    this.lastStepCache = -1;
  }

  private record(r: number): Buffer {
    return readAt(this.fd, HEADER_BYTES + r * this.recordBytes, this.recordBytes);
  }

  stepOf(r: number): number {
    return readAt(this.fd, HEADER_BYTES + r * this.recordBytes, 4).readUInt32LE(0);
  }

  get lastStep(): number {
    if (this.rows === 0) return -1;
    if (this.lastStepCache < 0) this.lastStepCache = this.stepOf(this.rows - 1);
    return this.lastStepCache;
  }

  /** first row whose step is ≥ step (rows when none) */
  rowAtOrAfter(step: number): number {
    if (this.rows === 0) return 0;
    if (this.lastStep - this.firstStep === this.rows - 1) {
      // contiguous steps (what Loadscope writes): no search
      return Math.min(this.rows, Math.max(0, step - this.firstStep));
    }
    let lo = 0;
    let hi = this.rows;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.stepOf(mid) < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** last row whose step is ≤ step (-1 when none) */
  rowAtOrBefore(step: number): number {
    const r = this.rowAtOrAfter(step);
    return r < this.rows && this.stepOf(r) === step ? r : r - 1;
  }

  /** One full row, layer-major L×E; NaN when it fails its checksum. */
  readRow(r: number): { step: number; loadsLE: Float32Array } {
    const rec = this.record(r);
    const out = new Float32Array(this.cells);
    if (!recordOk(rec)) {
      this.badRows.add(r);
      out.fill(NaN);
    } else decodeValues(rec, 4, this.cells, this.header.dtype, out);
    return { step: rec.readUInt32LE(0), loadsLE: out };
  }

  /**
   * Call fn(row, step, loadE) for rows [r0, r1) of one layer. Reads only the layer's slice of each record,
   * or whole runs of records where records are small (fewer system calls).
   */
  forEachLayerRow(layer: number, r0: number, r1: number, fn: (row: number, step: number, loadE: Float32Array) => void): void {
    const E = this.header.experts;
    const bpv = bytesPerValue(this.header.dtype);
    const loadE = new Float32Array(E);
    const sliceAt = 4 + layer * E * bpv;
    if (this.recordBytes <= 4 * (E * bpv + 4)) {
      const per = Math.max(1, Math.floor((1 << 20) / this.recordBytes));
      for (let a = r0; a < r1; a += per) {
        const n = Math.min(per, r1 - a);
        const buf = readAt(this.fd, HEADER_BYTES + a * this.recordBytes, n * this.recordBytes);
        for (let i = 0; i < n; i++) {
          const base = i * this.recordBytes;
          this.emit(a + i, buf.readUInt32LE(base), buf, base + sliceAt, loadE, fn);
        }
      }
      return;
    }
    for (let r = r0; r < r1; r++) {
      const slice = readAt(this.fd, HEADER_BYTES + r * this.recordBytes + sliceAt, E * bpv);
      this.emit(r, this.stepAtRow(r), slice, 0, loadE, fn);
    }
  }

  /** step of a row; computed without a read when steps are contiguous (what Loadscope writes) */
  stepAtRow(r: number): number {
    return this.lastStep - this.firstStep === this.rows - 1 ? this.firstStep + r : this.stepOf(r);
  }

  private emit(r: number, step: number, buf: Buffer, at: number, loadE: Float32Array, fn: (row: number, step: number, loadE: Float32Array) => void): void {
    if (this.badRows.has(r)) loadE.fill(NaN);
    else decodeValues(buf, at, loadE.length, this.header.dtype, loadE);
    fn(r, step, loadE);
  }

  /** Raw bytes of whole records [r0, r1) (for summary building). */
  readRecords(r0: number, r1: number): Buffer {
    return readAt(this.fd, HEADER_BYTES + r0 * this.recordBytes, (r1 - r0) * this.recordBytes);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export function decodeValues(buf: Buffer, at: number, n: number, dtype: number, out: Float32Array): void {
  if (dtype === DTYPE_UINT16) for (let i = 0; i < n; i++) out[i] = buf.readUInt16LE(at + 2 * i);
  else for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(at + 4 * i);
}
