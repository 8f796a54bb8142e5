// Getting a run folder ready to append again: cut every series after a step (resume from a checkpoint, or
// just past the last complete step after a crash), moving what is cut into backup/ (never deleted).
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILES, HEADER_BYTES, SUMMARY_BLOCKS, checkpointFileName, summaryFile, summaryRecordBytes } from './format';
import { fsyncDir, readAt } from './fs-util';
import { cutOffset, readLastRecord } from './jsonl';
import { LoadsFile } from './loads-file';
import { listCheckpointFiles } from './checkpoint-io';

export interface CutResult {
  /** last step kept */
  lastStep: number;
  /** backup folder (relative to the run folder) holding what was cut, or null when nothing was */
  backup: string | null;
  /** what moved, for logs: "steps.jsonl: 12 lines", ... */
  moved: string[];
}

/** Cut all series of `dir` after `afterStep` (default: the last complete step). */
export function cutAfter(dir: string, afterStep?: number): CutResult {
  const last = readLastRecord(join(dir, FILES.steps)).record;
  let committed = last ? (last.step as number) : -1;
  if (!last && existsSync(join(dir, FILES.loads))) {
    // a run without steps.jsonl (external trainer): loads alone decide
    const lf = LoadsFile.open(join(dir, FILES.loads), [], { check: 'tail', final: true });
    committed = lf ? lf.lastStep : -1;
    lf?.close();
  }
  const step = Math.min(afterStep ?? Infinity, committed);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backupRel = join(FILES.backup, `after-step-${Math.max(step, 0)}-${stamp}`);
  const backupDir = join(dir, backupRel);
  const moved: string[] = [];
  const ensureBackup = () => mkdirSync(backupDir, { recursive: true });

  for (const file of [FILES.steps, FILES.eval, FILES.topTokens]) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const fd = openSync(path, 'r+');
    try {
      const size = fstatSync(fd).size;
      const cut = cutFileOffset(fd, size, step);
      if (cut < size) {
        ensureBackup();
        writeFileSync(join(backupDir, file), readAt(fd, cut, size - cut));
        ftruncateSync(fd, cut);
        moved.push(`${file}: ${size - cut} bytes`);
      }
    } finally {
      closeSync(fd);
    }
  }

  const loadsPath = join(dir, FILES.loads);
  const lf = existsSync(loadsPath) ? LoadsFile.open(loadsPath, [], { check: 'tail', final: true }) : null;
  if (lf) {
    const keep = lf.rowAtOrBefore(step) + 1;
    const keepBytes = HEADER_BYTES + keep * lf.recordBytes;
    lf.close();
    const fd = openSync(loadsPath, 'r+');
    try {
      const size = fstatSync(fd).size;
      if (size > keepBytes) {
        ensureBackup();
        // the cut rows with a copy of the header: a loads.bin of its own
        writeFileSync(join(backupDir, FILES.loads), Buffer.concat([readAt(fd, 0, HEADER_BYTES), readAt(fd, keepBytes, size - keepBytes)]));
        // summaries first: a crash between the two leaves them short (completed on reopen), never stale
        for (const s of SUMMARY_BLOCKS) {
          const sp = join(dir, summaryFile(s));
          if (!existsSync(sp)) continue;
          const sfd = openSync(sp, 'r+');
          const rb = summaryRecordBytes(lf.header.layers, lf.header.experts);
          if (fstatSync(sfd).size > HEADER_BYTES + Math.floor(keep / s) * rb) ftruncateSync(sfd, HEADER_BYTES + Math.floor(keep / s) * rb);
          closeSync(sfd);
        }
        ftruncateSync(fd, keepBytes);
        moved.push(`${FILES.loads}: ${(size - keepBytes) / lf.recordBytes} records`);
      }
    } finally {
      closeSync(fd);
    }
  }

  for (const c of listCheckpointFiles(dir, [])) {
    if (c.step <= step) continue;
    ensureBackup();
    mkdirSync(join(backupDir, FILES.checkpoints), { recursive: true });
    const name = checkpointFileName(c.step);
    renameSync(join(dir, FILES.checkpoints, name), join(backupDir, FILES.checkpoints, name));
    moved.push(`checkpoint of step ${c.step}`);
  }
  if (moved.length > 0) {
    writeFileSync(join(backupDir, 'README.txt'), `Moved here when the run was continued after step ${step} (${new Date().toISOString()}):\n${moved.join('\n')}\n`);
    fsyncDir(dir);
  }
  return { lastStep: Math.max(step, 0), backup: moved.length > 0 ? backupRel : null, moved };
}

/** Offset of the first byte to cut from a JSONL file: lines after `step`, and a torn or garbled tail. */
function cutFileOffset(fd: number, size: number, step: number): number {
  let window = Math.min(size, 1 << 20);
  for (;;) {
    const start = size - window;
    const buf = readAt(fd, start, window);
    const cut = cutOffset(buf, step);
    // a cut at the window's first line may be a cut line: widen unless the window is the whole file
    if (start === 0) return cut;
    const firstNl = buf.indexOf(10);
    if (firstNl >= 0 && cut > firstNl) return start + cut;
    window = Math.min(size, window * 4);
  }
}
