// A stable colour per run, from a hash of its id: the same run has the same colour in every view and Compare.

/** 16 distinguishable hues that read on light and dark backgrounds */
export const RUN_PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#1f9e89', '#d4a6c8', '#6b6ecf', '#bd9e39', '#e7969c', '#17becf', '#8c6d31'];

/** FNV-1a 32-bit hash of a string */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const runColor = (runId: string): string => RUN_PALETTE[hashString(runId) % RUN_PALETTE.length]!;

/** A colour per group label (strategy, tag, option value), stable the same way. */
export const groupColor = (label: string): string => runColor(`group:${label}`);

/**
 * Colours of the runs shown together: each run its hash colour, except that a run whose colour an earlier
 * run (in id order) already took moves to the next free palette slot, so no two runs on one chart share a
 * colour. A run keeps its hash colour in every view where it has no such clash.
 */
export function runColors(runIds: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<number>();
  for (const id of [...new Set(runIds)].sort()) {
    let k = hashString(id) % RUN_PALETTE.length;
    for (let probe = 0; probe < RUN_PALETTE.length && used.has(k); probe++) k = (k + 1) % RUN_PALETTE.length;
    used.add(k);
    out.set(id, RUN_PALETTE[k]!);
  }
  return out;
}
