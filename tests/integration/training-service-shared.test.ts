// TrainingService with the real engine worker and LOADSCOPE_SHARED_WORKER=1 (every run on the shared worker, as
// tfjs-node runs are): two wasm runs requested at once train one after the other in ONE thread, the second
// queued for the shared worker (run list and status events say so), with the losses of fresh-worker runs and
// no tensor growth between runs; a stopped first run still lets the second start; a crashed worker is replaced.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeServices, type Services } from '../../src/main/services/compose';
import type { WorkerReport } from '../../src/shared/worker-protocol';
import { RecordingClient, tempRunsDir, tinyConfig, until } from './fixtures/service-helpers';

const MICRO = { ctx: 16, dModel: 16, heads: 2, layers: 2, experts: 4, topK: 2, expertHidden: 16, batch: 4 };
const micro = (over: Record<string, unknown> = {}) => tinyConfig({ preset: 'custom', model: MICRO, steps: 4, seed: 3, ...over });

const opened: Services[] = [];
const cleanups: Array<() => void> = [];
const envBefore = process.env.LOADSCOPE_SHARED_WORKER;

afterEach(async () => {
  for (const s of opened.splice(0)) await s.dispose();
  for (const c of cleanups.splice(0)) c();
  if (envBefore === undefined) delete process.env.LOADSCOPE_SHARED_WORKER;
  else process.env.LOADSCOPE_SHARED_WORKER = envBefore;
});

async function setup(shared: boolean) {
  if (shared) process.env.LOADSCOPE_SHARED_WORKER = '1';
  else delete process.env.LOADSCOPE_SHARED_WORKER;
  const tmp = tempRunsDir();
  cleanups.push(tmp.cleanup);
  const idle: Array<Extract<WorkerReport, { type: 'idle' }>> = [];
  const s = await composeServices({ runsDir: tmp.dir, log: () => undefined, onReport: (m) => void (m.type === 'idle' && idle.push(m)) });
  opened.push(s);
  // free slots: only the shared worker makes the second run wait
  s.settings.update({ maxConcurrentRuns: 2 });
  const client = new RecordingClient();
  s.events.subscribe(client);
  return { s, client, idle };
}

const losses = (s: Services, runId: string) =>
  readFileSync(join(s.runsDir, runId, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);

describe('shared engine worker (LOADSCOPE_SHARED_WORKER=1, real engine)', () => {
  it('two runs at once train one after the other in one thread, with fresh-worker losses and no tensor growth', async () => {
    const { s, client, idle } = await setup(true);
    const a = (await s.training.start(micro())).runId;
    const b = (await s.training.start(micro({ seed: 4 }))).runId;
    const [aDone, bDone] = [s.training.waitFor(a), s.training.waitFor(b)];
    // b waits although a slot is free: the run list and its status event say it waits for the shared worker
    expect(s.training.workerOf(b)).toBeNull();
    expect((await s.runs.list()).find((r) => r.runId === b)).toMatchObject({ status: 'created', queuePosition: 1, queuedFor: 'shared-worker' });
    expect(client.of('run:status', b).at(-1)).toMatchObject({ status: 'created', queuedFor: 'shared-worker' });
    const threadA = s.training.workerOf(a)!.threadId;
    expect(await aDone).toBe('completed');
    await until('b started', () => s.training.workerOf(b));
    expect(s.training.workerOf(b)!.threadId).toBe(threadA);
    expect(await bDone).toBe('completed');
    await until('b idle', () => idle.some((m) => m.runId === b));
    // the same thread, the same tensor count after each run, nothing left over
    expect(idle.map((m) => [m.runId, m.threadId, m.leakedTensors])).toEqual([[a, threadA, 0], [b, threadA, 0]]);
    expect(idle[1]!.numTensors).toBe(idle[0]!.numTensors);
    // b's first step came after a had ended
    const order = client.events.map((e) => e.payload as { runId: string; status?: string });
    const aEnd = order.findIndex((p) => p.runId === a && p.status === 'completed');
    expect(client.events.findIndex((e) => e.event === 'run:frame' && (e.payload as { runId: string }).runId === b)).toBeGreaterThan(aEnd);

    // the same two configs, each in its own fresh worker (in parallel): the same losses, bit for bit
    const fresh = await setup(false);
    const fa = (await fresh.s.training.start(micro())).runId;
    const fb = (await fresh.s.training.start(micro({ seed: 4 }))).runId;
    expect(fresh.s.training.workerOf(fb)).not.toBeNull();
    expect(fresh.s.training.workerOf(fb)!.threadId).not.toBe(fresh.s.training.workerOf(fa)!.threadId);
    expect(await Promise.all([fresh.s.training.waitFor(fa), fresh.s.training.waitFor(fb)])).toEqual(['completed', 'completed']);
    expect(losses(s, a)).toEqual(losses(fresh.s, fa));
    expect(losses(s, b)).toEqual(losses(fresh.s, fb));
    expect(losses(s, a)).toHaveLength(4);
  }, 240_000);

  it('a run stopped on the shared worker lets the queued one start there', async () => {
    const { s, client, idle } = await setup(true);
    const a = (await s.training.start(micro({ steps: 100_000 }))).runId;
    const b = (await s.training.start(micro())).runId;
    const bDone = s.training.waitFor(b);
    await until('a stepping', () => client.lastStep(a) >= 2, 90_000);
    const threadA = s.training.workerOf(a)!.threadId;
    await s.training.stop(a);
    expect(await s.training.waitFor(a)).toBe('stopped');
    expect(await bDone).toBe('completed');
    await until('b idle', () => idle.some((m) => m.runId === b));
    expect(idle.map((m) => [m.runId, m.threadId, m.leakedTensors])).toEqual([[a, threadA, 0], [b, threadA, 0]]);
    expect(idle[1]!.numTensors).toBe(idle[0]!.numTensors);
  }, 240_000);

  it('a crashed shared worker fails its run with one line and the queued run gets a fresh one', async () => {
    const { s, client, idle } = await setup(true);
    const a = (await s.training.start(micro({ steps: 100_000 }))).runId;
    const b = (await s.training.start(micro())).runId;
    const bDone = s.training.waitFor(b);
    await until('a stepping', () => client.lastStep(a) >= 2, 90_000);
    const first = s.training.workerOf(a)!;
    const threadA = first.threadId;
    await first.terminate();
    expect(await s.training.waitFor(a)).toBe('failed');
    expect(s.training.failureOf(a)).toBe('engine worker exited unexpectedly (exit code 1) (the shared worker; the next run starts a new one)');
    expect(await bDone).toBe('completed');
    await until('b idle', () => idle.some((m) => m.runId === b));
    expect(idle.map((m) => m.runId)).toEqual([b]);
    expect(idle[0]!.threadId).not.toBe(threadA);
  }, 240_000);
});
