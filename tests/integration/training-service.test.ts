// TrainingService with the real engine worker on the tiny preset: a full run, pause/resume/stop,
// a worker killed from outside (only its run fails), and quit (checkpoint + stop).
import { afterEach, describe, expect, it } from 'vitest';
import { composeServices, type Services } from '../../src/main/services/compose';
import { RecordingClient, tempRunsDir, tinyConfig, until, sleep } from './fixtures/service-helpers';

let services: Services | null = null;
let cleanup: (() => void) | null = null;

async function setup(maxConcurrentRuns = 1): Promise<{ s: Services; client: RecordingClient }> {
  const tmp = tempRunsDir();
  cleanup = tmp.cleanup;
  services = await composeServices({ runsDir: tmp.dir, log: () => undefined });
  services.settings.update({ maxConcurrentRuns });
  const client = new RecordingClient();
  services.events.subscribe(client);
  return { s: services, client };
}

afterEach(async () => {
  await services?.dispose();
  services = null;
  cleanup?.();
  cleanup = null;
});

describe('TrainingService with the engine worker (tiny preset)', () => {
  it('trains a run to completion: every step stored, every step in some frame exactly once', async () => {
    const { s, client } = await setup();
    const { runId } = await s.training.start(tinyConfig({ steps: 4, evalEvery: 2, checkpointEvery: 2 }));
    expect(await s.training.waitFor(runId)).toBe('completed');

    // frames: the points of all frames together are steps 1..4, none skipped, none twice
    const frames = client.of('run:frame', runId);
    const steps = frames.flatMap((f) => f.points.map((p) => p.step));
    expect(steps).toEqual([1, 2, 3, 4]);
    // tiny: 2 layers × 8 experts; ideal load = k·T/N = 2·(8·64)/8 = 128 assignments per expert
    const last = frames[frames.length - 1];
    expect([last.layers, last.experts, last.idealLoad, last.loadsLE.length]).toEqual([2, 8, 128, 16]);
    // each layer's loads sum to k·T = 2·512 = 1024 assignments (no capacity strategy, nothing dropped)
    for (let l = 0; l < 2; l++) expect(last.loadsLE.slice(l * 8, l * 8 + 8).reduce((a, b) => a + b, 0)).toBe(1024);
    expect(client.statuses(runId)).toContain('running');
    expect(client.statuses(runId).at(-1)).toBe('completed');

    const reader = await s.store.open(runId);
    try {
      expect(reader.lastStep).toBe(4);
      expect(reader.meta.status).toBe('completed');
      expect(reader.meta.summary?.steps).toBe(4);
      expect(reader.meta.backend?.name).toBe('wasm');
      expect(reader.scalars({ maxPoints: 100 }).steps).toEqual(steps);
      // checkpointEvery 2 → steps 2 and 4 (the last one is also the final checkpoint)
      expect(reader.listCheckpoints().map((c) => c.step)).toEqual(expect.arrayContaining([2, 4]));
      // evalEvery 2 → validation at steps 2 and 4, also pushed in frames
      expect(reader.scalars({ maxPoints: 100 }).eval.map((e) => e.step)).toEqual(expect.arrayContaining([2, 4]));
      expect(frames.filter((f) => f.eval).map((f) => f.eval!.step)).toEqual(expect.arrayContaining([2, 4]));
    } finally {
      reader.close();
    }
  }, 240_000);

  it('pauses (no steps while paused, checkpoint at the paused step), resumes and stops', async () => {
    const { s, client } = await setup();
    const { runId } = await s.training.start(tinyConfig({ steps: 30 }));
    await until('a step', () => client.lastStep(runId) >= 1, 90_000);
    s.training.pause(runId);
    await until('paused', () => client.statuses(runId).includes('paused'));
    const pausedAt = client.lastStep(runId);
    await sleep(1500);
    expect(client.lastStep(runId)).toBe(pausedAt);
    expect(await s.training.checkpoint(runId)).toBe(pausedAt);
    s.training.resume(runId);
    await until('a step after resume', () => client.lastStep(runId) > pausedAt, 90_000);
    await s.training.stop(runId);
    expect(await s.training.waitFor(runId)).toBe('stopped');
    const reader = await s.store.open(runId);
    try {
      expect(reader.meta.status).toBe('stopped');
      expect(reader.lastStep).toBeGreaterThan(pausedAt);
      expect(reader.lastStep).toBeLessThan(30);
      expect(reader.listCheckpoints().map((c) => c.step)).toContain(pausedAt);
    } finally {
      reader.close();
    }
  }, 240_000);

  it('a worker terminated from outside fails its run with the reason; the other carries on until quit', async () => {
    const { s, client } = await setup(2);
    const a = (await s.training.start(tinyConfig({ steps: 30 }))).runId;
    const b = (await s.training.start(tinyConfig({ steps: 30, seed: 2 }))).runId;
    await until('both runs stepping', () => client.lastStep(a) >= 1 && client.lastStep(b) >= 1, 90_000);
    await s.training.workerOf(a)!.terminate();
    expect(await s.training.waitFor(a)).toBe('failed');
    const failed = client.of('run:status', a).at(-1)!;
    expect(failed.message).toMatch(/engine worker exited unexpectedly \(exit code 1\)/);
    const bAfter = client.lastStep(b);
    await until('run b still stepping', () => client.lastStep(b) > bAfter, 90_000);
    expect(s.training.statusOf(b)).toBe('running');
    const ra = await s.store.open(a);
    expect([ra.meta.status, ra.meta.failure]).toEqual(['failed', failed.message]);
    ra.close();

    // quit: b is checkpointed and stopped
    await s.dispose();
    const rb = await s.store.open(b);
    try {
      expect(rb.meta.status).toBe('stopped');
      // the quit checkpoint is at a step b reached (> bAfter), and no later than its last stored step
      const last = Math.max(...rb.listCheckpoints().map((c) => c.step));
      expect(last).toBeGreaterThan(bAfter);
      expect(last).toBeLessThanOrEqual(rb.lastStep);
    } finally {
      rb.close();
    }
  }, 240_000);
});
