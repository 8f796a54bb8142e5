// The expert-parallel cost model over a whole run, from the `ep` figures each step line of steps.jsonl carries.
// Read incrementally: Compare re-reads a live run's detail every second, so only the bytes appended since the
// last read are parsed (a rewritten or shortened file — a restore — starts the sums again).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunCostReport, StepCost } from '../../shared/cost-model';
import type { RunConfig } from '../../shared/run-config';
import { FILES } from './format';

export type { RunCostReport };

interface Sums {
  ino: number;
  offset: number;
  /** the bytes just before offset: if they changed, the file was rewritten */
  tail: Buffer;
  lastStep: number;
  n: number;
  share: number;
  maxShare: number;
  ratio: number;
  crossTokens: number;
  crossBytes: number;
  overCapacity: number;
  latest: (StepCost & { step: number }) | null;
}

const MAX_CACHED = 64;
const cache = new Map<string, Sums>();

function fresh(ino: number): Sums {
  return { ino, offset: 0, tail: Buffer.alloc(0), lastStep: -1, n: 0, share: 0, maxShare: 0, ratio: 0, crossTokens: 0, crossBytes: 0, overCapacity: 0, latest: null };
}

const CHUNK_BYTES = 8 * 2 ** 20;
/** no step line is this long; a longer one (damage) stops the read there */
const MAX_LINE_BYTES = 64 * 2 ** 20;

/** Adds one chunk's complete lines; false when a step repeats (the file was rewritten). */
function addLines(s: Sums, text: string): boolean {
  for (const line of text.split('\n')) {
    if (!line.includes('"ep"')) continue;
    let rec: { step?: unknown; ep?: StepCost };
    try {
      rec = JSON.parse(line) as { step?: unknown; ep?: StepCost };
    } catch {
      continue; // a torn or garbled line: the reader reports it; the cost model just skips it
    }
    const ep = rec.ep;
    if (!ep || typeof ep.stepTimeRatio !== 'number' || typeof rec.step !== 'number') continue;
    if (rec.step <= s.lastStep) return false;
    s.lastStep = rec.step;
    s.n++;
    s.share += ep.slowestShare;
    s.maxShare = Math.max(s.maxShare, ep.slowestShare);
    s.ratio += ep.stepTimeRatio;
    s.crossTokens += ep.crossTokens;
    s.crossBytes += ep.crossBytes;
    s.overCapacity += ep.overCapacity;
    s.latest = { step: rec.step, slowestShare: ep.slowestShare, stepTimeRatio: ep.stepTimeRatio, overCapacity: ep.overCapacity, crossTokens: ep.crossTokens, crossBytes: ep.crossBytes };
  }
  return true;
}

/**
 * Adds the complete lines appended since s.offset, a chunk at a time (a long run's file is never held whole);
 * false when the file was rewritten (other bytes just before offset, or a step repeats).
 */
function readNew(path: string, s: Sums, size: number, chunkBytes: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const seen = Buffer.alloc(s.tail.length);
    readSync(fd, seen, 0, seen.length, s.offset - s.tail.length);
    if (!seen.equals(s.tail)) return false;
    let carry = Buffer.alloc(0);
    let pos = s.offset;
    while (pos < size && carry.length <= MAX_LINE_BYTES) {
      const chunk = Buffer.alloc(Math.min(chunkBytes, size - pos));
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) break;
      pos += n;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) {
        carry = buf;
        continue;
      }
      if (!addLines(s, buf.subarray(0, end).toString('utf8'))) return false;
      s.offset += end + 1;
      s.tail = Buffer.from(buf.subarray(Math.max(0, end + 1 - 64), end + 1));
      carry = Buffer.from(buf.subarray(end + 1));
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Run-level cost figures (the same sums as runCost); runs recorded before the cost model (or by external trainers) say why there are none. */
export function readRunCost(dir: string, config: RunConfig, chunkBytes = CHUNK_BYTES): RunCostReport {
  const path = join(dir, FILES.steps);
  let s: Sums;
  try {
    const st = statSync(path);
    s = cache.get(dir) ?? fresh(st.ino);
    if (s.ino !== st.ino || st.size < s.offset) s = fresh(st.ino);
    if (st.size > s.offset && !readNew(path, s, st.size, chunkBytes)) {
      s = fresh(st.ino);
      readNew(path, s, st.size, chunkBytes);
    }
  } catch {
    cache.delete(dir);
    return { unavailable: 'no steps.jsonl' };
  }
  cache.delete(dir);
  cache.set(dir, s);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  if (s.n === 0) return { unavailable: 'the steps carry no cost-model figures (recorded before the cost model existed)' };
  const ep = config.expertParallel;
  return {
    steps: s.n,
    devices: ep.devices,
    meanSlowestShare: s.share / s.n,
    maxSlowestShare: s.maxShare,
    stepTimeRatio: s.ratio / s.n,
    crossTokens: s.crossTokens,
    crossBytes: s.crossBytes,
    overCapacity: s.overCapacity,
    placement: ep.placement ? [...ep.placement] : 'round-robin',
    deviceCapacityFactor: ep.deviceCapacityFactor,
    bytesPerValue: ep.bytesPerValue,
    latest: s.latest,
  };
}
