// TrainingService orchestration with a protocol-only stand-in worker (fast, no tfjs): queueing beyond
// the concurrency setting, frame coalescing, slow clients, recovery after a crash, resume and branch,
// and the dispatcher's error results.
import { afterEach, describe, expect, it } from 'vitest';
import { composeServices, type Services } from '../../src/main/services/compose';
import { ClientChannel, mergeFrames } from '../../src/main/services/client-channel';
import { INTERRUPTED_MESSAGE } from '../../src/main/services/training-service';
import { RecordingClient, fakeWorkerEntry, tempRunsDir, tinyConfig, until } from './fixtures/service-helpers';

let services: Services | null = null;
const cleanups: Array<() => void> = [];

async function setup(maxConcurrentRuns = 1, dir?: string): Promise<{ s: Services; client: RecordingClient; dir: string }> {
  let runsDir = dir;
  if (!runsDir) {
    const tmp = tempRunsDir();
    cleanups.push(tmp.cleanup);
    runsDir = tmp.dir;
  }
  services = await composeServices({ runsDir, workerEntry: fakeWorkerEntry, log: () => undefined });
  services.settings.update({ maxConcurrentRuns });
  const client = new RecordingClient();
  services.events.subscribe(client);
  return { s: services, client, dir: runsDir };
}

afterEach(async () => {
  await services?.dispose();
  services = null;
  for (const c of cleanups.splice(0)) c();
});

describe('TrainingService orchestration (stand-in worker)', () => {
  it('queues runs beyond maxConcurrentRuns and starts them when a slot frees', async () => {
    const { s, client } = await setup(1);
    const a = (await s.training.start(tinyConfig({ steps: 40 }))).runId;
    const b = (await s.training.start(tinyConfig({ steps: 10 }))).runId;
    expect(s.training.workerOf(b)).toBeNull();
    expect(client.of('run:status', b)[0]).toMatchObject({ status: 'created', message: expect.stringMatching(/queued/) });
    expect(await s.training.waitFor(a)).toBe('completed');
    expect(await s.training.waitFor(b)).toBe('completed');
    // b's first frame comes after a's completion in the event stream
    const idx = (pred: (e: { event: string; payload: unknown }) => boolean) => client.events.findIndex(pred);
    const aDone = idx((e) => e.event === 'run:status' && (e.payload as { runId: string; status: string }).runId === a && (e.payload as { status: string }).status === 'completed');
    const bFirst = idx((e) => e.event === 'run:frame' && (e.payload as { runId: string }).runId === b);
    expect(aDone).toBeGreaterThan(-1);
    expect(bFirst).toBeGreaterThan(aDone);
  });

  it('coalesces frames (≤ one per 50 ms) without losing a step', async () => {
    const { s, client } = await setup();
    const t0 = Date.now();
    const { runId } = await s.training.start(tinyConfig({ steps: 60 }));
    await s.training.waitFor(runId);
    const wallMs = Date.now() - t0;
    const frames = client.of('run:frame', runId);
    expect(frames.flatMap((f) => f.points.map((p) => p.step))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // at most one frame per 50 ms interval, plus the flushes at status changes (running, completed)
    expect(frames.length).toBeLessThanOrEqual(Math.ceil(wallMs / 50) + 3);
    // the stand-in makes expert 0 carry `step` extra assignments: the last frame's loads show it
    const last = frames.at(-1)!;
    expect(last.loadsLE[0] - last.idealLoad).toBeCloseTo(60, 4);
  });

  it('a slow client gets merged frames (bounded), then every step once it catches up', async () => {
    const { s } = await setup();
    const slow = new RecordingClient();
    slow.busy = true;
    s.events.subscribe(slow);
    const { runId } = await s.training.start(tinyConfig({ steps: 40 }));
    await s.training.waitFor(runId);
    expect(slow.events.length).toBe(0);
    slow.busy = false;
    await until('the slow client catches up', () => slow.of('run:status', runId).some((x) => x.status === 'completed'), 5_000);
    const frames = slow.of('run:frame', runId);
    // everything pending merged into one frame per run, carrying all 40 points
    expect(frames.length).toBe(1);
    expect(frames[0].points.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('mergeFrames keeps the newest loads and caps the points', () => {
    const f = (steps: number[], load: number) => ({ runId: 'r', step: steps.at(-1)!, totalSteps: 9, points: steps.map((step) => ({ step, loss: 1, maxVio: 0, avgMaxVio: 0, supMaxVio: 0, tokensPerSec: 1, lr: 1, dropped: 0, dropRate: 0, avgDropRate: 0, demandMaxVio: 0, demandAvgMaxVio: 0, entropy: 1, cv: 0, idle: 0, dead: 0, elapsedMs: step })), loadsLE: [load], layers: 1, experts: 1, idealLoad: 1, etaMs: null });
    const m = mergeFrames(f([1, 2], 5), f([3, 4, 5], 7), 4);
    expect(m.points.map((p) => p.step)).toEqual([2, 3, 4, 5]);
    expect(m.loadsLE).toEqual([7]);
    const sent: string[] = [];
    const ch = new ClientChannel({ send: (e) => void sent.push(e), isBusy: () => true });
    for (let i = 0; i < 1000; i++) ch.push('run:frame', f([i + 1], i));
    expect(ch.mergedFrames).toBe(999);
    ch.close();
    expect(sent).toEqual([]);
  });

  it('marks runs left running by a dead process failed at start-up', async () => {
    const { s, dir } = await setup();
    const { resolveRunConfig } = await import('../../src/shared/run-config');
    const cfg = resolveRunConfig(tinyConfig());
    if (!cfg.ok) throw new Error('fixture config invalid');
    const w = await s.store.create(cfg.config, { name: 'crashed' });
    w.setStatus('running');
    await w.close();
    await s.dispose();
    const { s: s2 } = await setup(1, dir);
    const item = (await s2.store.list()).find((r) => r.runId === w.runId)!;
    expect(item.status).toBe('failed');
    const detail = await s2.dispatch('getRun', { runId: w.runId });
    expect(detail.ok && (detail.value as { failure: string }).failure).toBe(INTERRUPTED_MESSAGE);
  });

  it('resumes a stopped run from a checkpoint and branches a new run from one', async () => {
    const { s } = await setup(2);
    const { runId } = await s.training.start(tinyConfig({ steps: 20, checkpointEvery: 5 }));
    expect(await s.training.waitFor(runId)).toBe('completed');
    const resumed = await s.dispatch('resumeFromCheckpoint', { runId, step: 10, steps: 25 });
    expect(resumed).toEqual({ ok: true, value: { runId } });
    expect(await s.training.waitFor(runId)).toBe('completed');
    const r = await s.store.open(runId);
    // steps 11..20 were replaced by the resumed ones, and the run went on to the new total 25
    expect(r.lastStep).toBe(25);
    expect(r.scalars({ maxPoints: 1000 }).steps).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    r.close();
    const branched = await s.dispatch('branchRun', { runId, step: 15, name: 'branch' });
    if (!branched.ok) throw new Error(branched.error.message);
    const bid = (branched.value as { runId: string }).runId;
    expect(bid).not.toBe(runId);
    expect(await s.training.waitFor(bid)).toBe('completed');
    const b = await s.store.open(bid);
    expect([b.meta.name, b.meta.parent, b.lastStep]).toEqual(['branch', { runId, step: 15 }, 25]);
    b.close();
  });

  it('the dispatcher answers bad requests with CommandErrors', async () => {
    const { s } = await setup();
    const bad = await s.dispatch('startRun', { config: { steps: 0 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('invalid');
      expect(bad.error.fieldErrors?.map((e) => e.path)).toEqual(['config.steps']);
    }
    const opt = await s.dispatch('startRun', { config: { strategy: 'bip', strategyOptions: { nope: 1 } } });
    expect(!opt.ok && opt.error.code).toBe('invalid');
    expect(!opt.ok && opt.error.message).toMatch(/no option "nope"/);
    expect(await s.dispatch('pauseRun', { runId: 'nope' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await s.dispatch('pauseRun', { runId: '../etc' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await s.dispatch('launchMissiles', {})).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringMatching(/unknown command/) } });
    expect(await s.dispatch('getRun', { runId: 'missing' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('shared-worker runs (tfjs-node: one at a time in one long-lived worker)', () => {
  /** the thread each run's 'idle' report came from */
  const idleThreads = new Map<string, number>();
  async function sharedService(client: RecordingClient, failFirstRunAtStep = 0) {
    const tmp = tempRunsDir();
    cleanups.push(tmp.cleanup);
    const { TrainingService } = await import('../../src/main/services/training-service');
    const { RunStore } = await import('../../src/main/store/run-store');
    const store = new RunStore(tmp.dir);
    let created = 0;
    if (failFirstRunAtStep > 0) {
      // the first run's writer fails at that step, as a full disk would: the service ends the run on its side
      const create = store.create.bind(store);
      store.create = async (...args) => {
        const w = await create(...args);
        if (created++ > 0) return w;
        const append = w.appendStep.bind(w);
        w.appendStep = (r) => {
          if (r.step === failFirstRunAtStep) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          append(r);
        };
        return w;
      };
    }
    return new TrainingService({
      store, emit: (e, p) => client.send(e, p), maxConcurrentRuns: () => 4,
      workerEntry: fakeWorkerEntry, placement: () => 'shared', log: () => undefined,
      onReport: (m) => void (m.type === 'idle' && idleThreads.set(m.runId, m.threadId)),
    });
  }

  it('queues a second shared run even with free slots, then runs it in the same thread', async () => {
    const client = new RecordingClient();
    const training = await sharedService(client);
    try {
      const a = (await training.start(tinyConfig({ steps: 20 }))).runId;
      const b = (await training.start(tinyConfig({ steps: 5 }))).runId;
      const workerA = training.workerOf(a);
      expect(training.workerOf(b)).toBeNull();
      expect(training.queuePositionOf(b)).toBe(1);
      expect(client.of('run:status', b).at(-1)).toMatchObject({ status: 'created', queuePosition: 1, message: 'queued (position 1, one run at a time on the shared engine worker)', queuedFor: 'shared-worker' });
      expect(training.queuedForOf(b)).toBe('shared-worker');
      expect(await training.waitFor(a)).toBe('completed');
      await until('b started', () => training.workerOf(b));
      // the same thread hosts b after a: not terminated after a's 'finished'
      expect(training.workerOf(b)!.threadId).toBe(workerA!.threadId);
      expect(await training.waitFor(b)).toBe('completed');
      await until('b idle', () => idleThreads.has(b));
      expect([idleThreads.get(a), idleThreads.get(b)]).toEqual([workerA!.threadId, workerA!.threadId]);
    } finally {
      await training.dispose();
    }
  });

  it('a crashed shared worker fails its run with one line; the queued run starts on a new worker', async () => {
    const client = new RecordingClient();
    const training = await sharedService(client);
    try {
      const a = (await training.start(tinyConfig({ steps: 100_000 }))).runId;
      const b = (await training.start(tinyConfig({ steps: 5 }))).runId;
      await until('a stepping', () => client.lastStep(a) >= 2);
      const first = training.workerOf(a)!;
      await first.terminate();
      expect(await training.waitFor(a)).toBe('failed');
      expect(training.failureOf(a)).toBe('engine worker exited unexpectedly (exit code 1) (the shared worker; the next run starts a new one)');
      expect(await training.waitFor(b)).toBe('completed');
      expect(client.statuses(b)).toContain('running');
      await until('b idle', () => idleThreads.has(b));
      expect(idleThreads.get(b)).not.toBe(first.threadId);
    } finally {
      await training.dispose();
    }
  });

  it('a run failed by the service (store write) is stopped in the shared worker, which then takes the next run', async () => {
    const client = new RecordingClient();
    const training = await sharedService(client, 3);
    try {
      // without the stop, a's 100 000 steps would keep the shared worker busy and b would never start
      const a = (await training.start(tinyConfig({ steps: 100_000 }))).runId;
      const b = (await training.start(tinyConfig({ steps: 5 }))).runId;
      const bDone = training.waitFor(b);
      expect(await training.waitFor(a)).toBe('failed');
      expect(training.failureOf(a)).toMatch(/no space left on device/);
      expect(await bDone).toBe('completed');
      await until('b idle', () => idleThreads.has(b));
      expect(idleThreads.get(b)).toBe(idleThreads.get(a));
    } finally {
      await training.dispose();
    }
  });
});
