// Issue 13 at the service level, real engine worker (tiny preset): queue positions and cancelling a queued run,
// checkpoint lists announced while training, live summaries, and a branch whose figures cover only its own steps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeServices, type Services } from '../../src/main/services/compose';
import { RecordingClient, tempRunsDir, tinyConfig } from './fixtures/service-helpers';

let services: Services | null = null;
let cleanup: (() => void) | null = null;

afterEach(async () => {
  await services?.dispose();
  services = null;
  cleanup?.();
  cleanup = null;
});

async function setup(): Promise<{ s: Services; client: RecordingClient }> {
  const tmp = tempRunsDir();
  cleanup = tmp.cleanup;
  services = await composeServices({ runsDir: tmp.dir, log: () => undefined });
  services.settings.update({ maxConcurrentRuns: 1 });
  const client = new RecordingClient();
  services.events.subscribe(client);
  return { s: services, client };
}

const stepLines = (s: Services, runId: string) =>
  readFileSync(join(s.runsDir, runId, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; maxVio: number; dropRate: number; timing: { totalMs: number } });

describe('queue, live figures and branches (issue 13)', () => {
  it('a queued run knows its place, moves up, and can be cancelled; checkpoints are announced while training', async () => {
    const { s, client } = await setup();
    const a = (await s.training.start(tinyConfig({ steps: 6, checkpointEvery: 2 }))).runId;
    const b = (await s.training.start(tinyConfig({ steps: 3 }))).runId;
    const c = (await s.training.start(tinyConfig({ steps: 3 }))).runId;
    expect([s.training.queuePositionOf(a), s.training.queuePositionOf(b), s.training.queuePositionOf(c)]).toEqual([null, 1, 2]);
    expect(client.of('run:status', c).at(-1)).toMatchObject({ status: 'created', queuePosition: 2, message: 'queued (position 2)' });
    expect((await s.runs.list()).find((i) => i.runId === c)?.queuePosition).toBe(2);

    // cancel b while it waits: it ends stopped with no step, c moves up to position 1
    await s.training.stop(b);
    expect(client.of('run:status', b).at(-1)).toMatchObject({ status: 'stopped', message: 'cancelled before it started' });
    expect(client.of('run:status', c).at(-1)).toMatchObject({ queuePosition: 1, message: 'queued (position 1)' });
    const rb = await s.store.open(b);
    expect([rb.meta.status, rb.lastStep]).toEqual(['stopped', 0]);
    rb.close();

    expect(await s.training.waitFor(a)).toBe('completed');
    // periodic checkpoints 2 and 4 were announced before the run ended (the lists reload on runs:changed)
    const reasons = client.of('runs:changed').map((p) => p.reason);
    const endedAt = reasons.indexOf('run completed');
    expect(reasons.indexOf('checkpoint 2 written')).toBeGreaterThanOrEqual(0);
    expect(reasons.indexOf('checkpoint 2 written')).toBeLessThan(endedAt);
    expect(await s.training.waitFor(c)).toBe('completed');
  }, 240_000);

  it('a branch summarises its own steps only, links its parent; wall time starts at launch', async () => {
    const { s } = await setup();
    const parent = (await s.training.start(tinyConfig({ steps: 6, checkpointEvery: 3, strategy: 'capacity', strategyOptions: { capacityFactor: 1 } }))).runId;
    expect(await s.training.waitFor(parent)).toBe('completed');
    const child = (await s.training.branch(parent, 3, 'child', 8)).runId;
    expect(await s.training.waitFor(child)).toBe('completed');

    const own = stepLines(s, child);
    expect(own.map((l) => l.step)).toEqual([4, 5, 6, 7, 8]);
    const r = await s.store.open(child);
    const sum = r.meta.summary!;
    r.close();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(sum.avgMaxVio).toBeCloseTo(mean(own.map((l) => l.maxVio)), 6);
    expect(sum.dropRate).toBeCloseTo(mean(own.map((l) => l.dropRate)), 9);
    expect(sum.dropRate).toBeGreaterThan(0);
    expect(sum.trainMs).toBeCloseTo(own.reduce((a, l) => a + l.timing.totalMs, 0), 3);
    expect(sum.parent).toEqual({ runId: parent, step: 3 });
    expect(sum.wallMs).toBeGreaterThanOrEqual(sum.trainMs!);
    const detail = await s.runs.get(child);
    expect(detail.parent).toEqual({ runId: parent, step: 3 });
    expect(detail.trainMs).toBe(sum.trainMs);
  }, 240_000);
});
