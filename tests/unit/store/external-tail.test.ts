// ExternalTail: an external run's appended steps arrive as run:frame events, its status changes as run:status.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventPayloads } from '../../../src/shared/ipc-contract';
import { ExternalTail } from '../../../src/main/services/external-tail';
import { ExternalRunWriter } from '../../../src/main/store/external-writer';
import { until } from '../../integration/fixtures/service-helpers';
import { tempRoot } from './helpers';

let root: string;
let cleanup: () => void;
let tail: ExternalTail | null = null;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => {
  tail?.dispose();
  cleanup();
});

describe('ExternalTail', () => {
  it('streams new steps (every point, the latest loads) and the final status, without writing', async () => {
    const w = new ExternalRunWriter(join(root, 'ext'), { layers: 2, experts: 4, topK: 1, tokensPerStep: 8, name: 'ext', framework: 'pytorch', counted: 'before-drop' });
    const loads = (s: number) => Float32Array.from([s, 8 - s, 0, 0, 2, 2, 2, 2]);
    w.append(1, loads(1));
    const frames: Array<EventPayloads['run:frame']> = [];
    const statuses: Array<EventPayloads['run:status']> = [];
    tail = new ExternalTail(root, (event, payload) => {
      if (event === 'run:frame') frames.push(payload as EventPayloads['run:frame']);
      if (event === 'run:status') statuses.push(payload as EventPayloads['run:status']);
    });
    tail.start();
    for (let s = 2; s <= 6; s++) w.append(s, loads(s));
    await until('frames up to step 6', () => frames.at(-1)?.step === 6, 10_000);
    // step 1 was on disk before: the view loaded it; frames carry steps 2..6, none skipped or repeated
    expect(frames.flatMap((f) => f.points.map((p) => p.step))).toEqual([2, 3, 4, 5, 6]);
    expect(frames.at(-1)).toMatchObject({ runId: 'ext', layers: 2, experts: 4, idealLoad: 2, loadsLE: [6, 2, 0, 0, 2, 2, 2, 2] });
    // MaxVio of step 6: layer 0 (6 − 2)/2 = 2, layer 1 0 → 1
    expect(frames.at(-1)!.points.at(-1)!.maxVio).toBe(1);
    w.close();
    await until('completed status', () => statuses.find((s) => s.status === 'completed'), 10_000);
  });
});
