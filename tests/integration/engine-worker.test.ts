// The engine worker thread through its protocol only, spawned as main does (engineWorkerEntry, source mode):
// start → steps → pause → checkpoint → resume → stop → final checkpoint → finished; a failure report; and
// several runs in sequence in one worker (the shared tfjs-node worker): same losses, no tensor growth.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { engineWorkerEntry } from '../../src/main/engine/worker-path';
import { resolveRunConfig, type RunConfigInput } from '../../src/shared/run-config';
import type { WorkerCommand, WorkerReport } from '../../src/shared/worker-protocol';

const MICRO = { ctx: 16, dModel: 16, heads: 2, layers: 2, experts: 4, topK: 2, expertHidden: 16, batch: 4 };

function cfg(input: RunConfigInput) {
  const r = resolveRunConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** A worker plus a message queue the test can await by predicate. */
function spawn() {
  const entry = engineWorkerEntry();
  // extra workerData fields must be tolerated by the worker
  const worker = new Worker(entry.filename, { workerData: { __entry: entry.sourceEntry, caller: 'test' } });
  const seen: WorkerReport[] = [];
  const waiters: Array<{ pred: (m: WorkerReport) => boolean; resolve: (m: WorkerReport) => void }> = [];
  worker.on('message', (m: WorkerReport) => {
    seen.push(m);
    for (const w of waiters.splice(0)) {
      if (w.pred(m)) w.resolve(m);
      else waiters.push(w);
    }
  });
  const next = (pred: (m: WorkerReport) => boolean, what: string) =>
    new Promise<WorkerReport>((resolve, reject) => {
      const hit = seen.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; saw ${seen.map((m) => m.type).join(',')}`)), 60_000);
      waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  const send = (cmd: WorkerCommand) => worker.postMessage(cmd);
  return { worker, seen, next, send };
}

let live: Worker | null = null;
afterEach(async () => {
  await live?.terminate();
  live = null;
});

describe('engine worker protocol', () => {
  it('runs, pauses, checkpoints, resumes and stops', async () => {
    const w = spawn();
    live = w.worker;
    const runId = 'run-1';
    w.send({ type: 'start', runId, config: cfg({ preset: 'custom', model: MICRO, steps: 1000, backend: 'cpu', evalEvery: 3, checkpointEvery: 0 }) });
    const ready = await w.next((m) => m.type === 'ready', 'ready');
    expect(ready.type === 'ready' && ready.backend.name).toBe('cpu');
    expect(ready.type === 'ready' && ready.parameterCount).toBeGreaterThan(0);

    const step2 = await w.next((m) => m.type === 'step' && m.report.step === 2, 'step 2');
    // loads arrive as typed arrays (transferred), L × E of them, each layer summing to k·T = 2·64
    if (step2.type !== 'step') throw new Error('unreachable');
    expect(step2.report.loadsLE).toBeInstanceOf(Float32Array);
    expect(step2.report.loadsLE.length).toBe(MICRO.layers * MICRO.experts);
    expect(step2.report.loadsLE.slice(0, 4).reduce((a, b) => a + b, 0)).toBe(2 * 64);
    expect(step2.report.maxVioL).toBeInstanceOf(Float32Array);
    await w.next((m) => m.type === 'eval' && m.report.step === 3, 'eval at step 3');

    w.send({ type: 'pause', runId });
    await w.next((m) => m.type === 'state' && m.state === 'paused', 'paused');
    const stepsAtPause = w.seen.filter((m) => m.type === 'step').length;
    w.send({ type: 'checkpoint', runId, reason: 'manual' });
    const cp = await w.next((m) => m.type === 'checkpoint' && m.reason === 'manual', 'manual checkpoint');
    if (cp.type !== 'checkpoint') throw new Error('unreachable');
    expect(cp.checkpoint.step).toBe(stepsAtPause);
    expect(cp.checkpoint.arrays.some((a) => a.name === 'model/wte' && a.data instanceof Float32Array)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    // paused means paused: no step while we waited
    expect(w.seen.filter((m) => m.type === 'step').length).toBe(stepsAtPause);

    w.send({ type: 'resume', runId });
    await w.next((m) => m.type === 'step' && m.report.step === stepsAtPause + 2, 'steps after resume');
    w.send({ type: 'stop', runId });
    const fin = await w.next((m) => m.type === 'finished', 'finished');
    expect(fin.type === 'finished' && fin.state).toBe('stopped');
    const finalCp = w.seen.findIndex((m) => m.type === 'checkpoint' && m.reason === 'final');
    expect(finalCp).toBeGreaterThan(-1);
    expect(finalCp).toBeLessThan(w.seen.indexOf(fin));
    expect(w.seen.some((m) => m.type === 'failed')).toBe(false);
  });

  it('completes at stopAtStep/steps with a final checkpoint, and reports a missing data file as failed', async () => {
    const w = spawn();
    live = w.worker;
    w.send({ type: 'start', runId: 'short', config: cfg({ preset: 'custom', model: MICRO, steps: 3, backend: 'cpu', evalEvery: 0 }) });
    const fin = await w.next((m) => m.type === 'finished', 'finished');
    expect(fin.type === 'finished' && [fin.state, fin.step]).toEqual(['completed', 3]);
    await w.worker.terminate();

    const w2 = spawn();
    live = w2.worker;
    const path = '/nonexistent/loadscope-test/corpus.txt';
    w2.send({ type: 'start', runId: 'bad', config: cfg({ preset: 'custom', model: MICRO, backend: 'cpu', data: { kind: 'file', path } }) });
    const failed = await w2.next((m) => m.type === 'failed', 'failed');
    expect(failed.type === 'failed' && failed.message).toBe(`data file not found: ${path}`);
    // a user error carries no stack trace
    expect(failed.type === 'failed' && failed.stack).toBeUndefined();
  });
});

describe('sequential runs in one engine worker (the shared worker)', () => {
  const seqCfg = (over: RunConfigInput = {}) => cfg({ preset: 'custom', model: MICRO, steps: 3, seed: 7, backend: 'wasm', evalEvery: 0, checkpointEvery: 0, ...over });
  const lossesOf = (seen: WorkerReport[], runId: string) => seen.flatMap((m) => (m.type === 'step' && m.runId === runId ? [m.report.loss] : []));
  const idleOf = (w: ReturnType<typeof spawn>, runId: string) => w.next((m) => m.type === 'idle' && m.runId === runId, `idle of ${runId}`);

  it('refuses a start while busy; after a stop and a failure the next runs start, with the losses of a fresh worker', async () => {
    const w = spawn();
    live = w.worker;
    w.send({ type: 'start', runId: 'long', config: seqCfg({ steps: 1000 }) });
    await w.next((m) => m.type === 'step' && m.runId === 'long' && m.report.step === 2, 'step 2 of long');
    w.send({ type: 'start', runId: 'intruder', config: seqCfg() });
    const refused = await w.next((m) => m.type === 'failed' && m.runId === 'intruder', 'refusal');
    expect(refused.type === 'failed' && refused.message).toBe('engine worker busy: run long is still training here, so run intruder was not started (one run at a time per worker)');
    w.send({ type: 'stop', runId: 'long' });
    expect(await w.next((m) => m.type === 'finished' && m.runId === 'long', 'long finished')).toMatchObject({ state: 'stopped' });
    const idleLong = await idleOf(w, 'long');
    if (idleLong.type !== 'idle') throw new Error('unreachable');
    expect(idleLong.threadId).toBe(w.worker.threadId);
    expect(idleLong.leakedTensors).toBe(0);

    const path = '/nonexistent/loadscope-test/corpus.txt';
    w.send({ type: 'start', runId: 'bad', config: seqCfg({ data: { kind: 'file', path } }) });
    expect(await w.next((m) => m.type === 'failed' && m.runId === 'bad', 'bad failed')).toMatchObject({ message: `data file not found: ${path}` });
    await idleOf(w, 'bad');

    for (const runId of ['s1', 's2']) {
      w.send({ type: 'start', runId, config: seqCfg() });
      expect(await w.next((m) => m.type === 'finished' && m.runId === runId, `${runId} finished`)).toMatchObject({ state: 'completed', step: 3 });
      await idleOf(w, runId);
    }
    // every run gave back all its tensors: the count after each is the count after the first
    const idles = w.seen.flatMap((m) => (m.type === 'idle' ? [m] : []));
    expect(idles.map((m) => m.runId)).toEqual(['long', 'bad', 's1', 's2']);
    expect(idles.map((m) => m.numTensors)).toEqual(idles.map(() => idleLong.numTensors));
    expect(idles.map((m) => m.threadId)).toEqual(idles.map(() => w.worker.threadId));
    await w.worker.terminate();

    // the same config in a fresh worker: the same losses, bit for bit (no state carried between runs)
    const fresh = spawn();
    live = fresh.worker;
    fresh.send({ type: 'start', runId: 'f1', config: seqCfg() });
    await fresh.next((m) => m.type === 'finished', 'fresh finished');
    const expected = lossesOf(fresh.seen, 'f1');
    expect(expected).toHaveLength(3);
    expect(lossesOf(w.seen, 's1')).toEqual(expected);
    expect(lossesOf(w.seen, 's2')).toEqual(expected);
  }, 240_000);
});
