// JSON-lines series (steps, eval, top tokens): incremental parsing, torn-last-line detection, tail reads.
import { closeSync, fstatSync, openSync, existsSync } from 'node:fs';
import { readAt } from './fs-util';

const CHUNK = 4 << 20;

/** One record per line; `step` must grow strictly. Lines after the last newline are unfinished (or torn). */
export class JsonlFile {
  private fd: number | null;
  /** bytes consumed: everything before this is parsed */
  private offset = 0;
  private line = 0;
  private lastStep = -Infinity;
  private tornReported = false;
  readonly issues: string[] = [];

  constructor(
    readonly path: string,
    readonly label: string,
  ) {
    this.fd = existsSync(path) ? openSync(path, 'r') : null;
  }

  get exists(): boolean {
    return this.fd !== null;
  }

  /** Parse lines appended since the last call. `final`: no writer is alive, so an unfinished last line is torn. */
  readNew(onRecord: (rec: Record<string, unknown>) => void, final: boolean, maxStep = Infinity): void {
    while (this.readChunk(onRecord, final, maxStep));
  }

  /** Parse up to one chunk of new lines; false when everything on disk is parsed. */
  readChunk(onRecord: (rec: Record<string, unknown>) => void, final: boolean, maxStep = Infinity): boolean {
    if (this.fd === null) return false;
    const size = fstatSync(this.fd).size;
    if (this.offset < size) {
      const buf = readAt(this.fd, this.offset, Math.min(CHUNK, size - this.offset));
      const nl = buf.lastIndexOf(10);
      if (nl < 0 && buf.length === CHUNK) throw new Error(`${this.label}: a line longer than ${CHUNK} bytes`);
      if (nl >= 0) {
        for (const line of buf.toString('utf8', 0, nl).split('\n')) {
          this.line++;
          if (line.trim() === '') continue;
          const rec = parseRecord(line);
          if (typeof rec === 'string') {
            this.issues.push(`${this.label} line ${this.line}: ${rec}; skipped`);
          } else if ((rec.step as number) <= this.lastStep) {
            this.issues.push(`${this.label} line ${this.line}: step ${rec.step} is not after step ${this.lastStep}; skipped`);
          } else if ((rec.step as number) <= maxStep) {
            this.lastStep = rec.step as number;
            onRecord(rec);
          }
        }
        this.offset += nl + 1;
        if (this.offset < size) return true;
      }
    }
    if (final && !this.tornReported && this.offset < size) {
      this.tornReported = true;
      this.issues.push(`${this.label}: dropped a torn last line (${size - this.offset} bytes, a write was interrupted)`);
    }
    return false;
  }

  /** Say once that the last line is torn (found by a tail read before the full parse). */
  reportTorn(message: string): void {
    if (this.tornReported) return;
    this.tornReported = true;
    this.issues.push(message);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function parseRecord(line: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const step = (v as { step?: unknown }).step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return 'no integer "step"';
  return v as Record<string, unknown>;
}

/**
 * The last complete, valid record of a JSONL file without reading the whole file, plus the byte count of
 * an unfinished last line (0 when the file ends with a newline).
 */
export function readLastRecord(path: string): { record: Record<string, unknown> | null; tornBytes: number; skipped: number } {
  if (!existsSync(path)) return { record: null, tornBytes: 0, skipped: 0 };
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let window = Math.min(size, 64 << 10);
    for (;;) {
      const start = size - window;
      const buf = readAt(fd, start, window);
      const lastNl = buf.lastIndexOf(10);
      const tornBytes = lastNl < 0 ? (start === 0 ? size : -1) : buf.length - lastNl - 1;
      if (tornBytes >= 0) {
        // complete lines are those ending before lastNl; the first one may be cut by the window unless start = 0
        const lines = buf.toString('utf8', 0, Math.max(lastNl, 0)).split('\n');
        let skipped = 0;
        for (let i = lines.length - 1; i >= (start === 0 ? 0 : 1); i--) {
          if (lines[i]!.trim() === '') continue;
          const rec = parseRecord(lines[i]!);
          if (typeof rec !== 'string') return { record: rec, tornBytes, skipped };
          skipped++;
        }
        if (start === 0) return { record: null, tornBytes, skipped };
      }
      if (start === 0) return { record: null, tornBytes: size, skipped: 0 };
      window = Math.min(size, window * 4);
    }
  } finally {
    closeSync(fd);
  }
}

/** Byte offset of the first line whose step is after `step` (or of a torn/garbled tail), scanning from the end. */
export function cutOffset(buf: Buffer, step: number): number {
  // an unfinished last line always goes
  const lastNl = buf.lastIndexOf(10);
  let cut = lastNl + 1;
  let end = lastNl;
  while (end > 0) {
    const prevNl = buf.lastIndexOf(10, end - 1);
    const line = buf.toString('utf8', prevNl + 1, end);
    const rec = line.trim() === '' ? null : parseRecord(line);
    if (rec !== null && typeof rec !== 'string' && (rec.step as number) <= step) break;
    cut = prevNl + 1;
    end = prevNl;
  }
  return Math.max(cut, 0);
}
