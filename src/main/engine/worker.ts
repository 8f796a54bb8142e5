// Engine worker thread entry: speaks only src/shared/worker-protocol.ts; hosts one run at a time, any
// number in sequence. Every failure becomes a 'failed' report with its message (user errors without a
// stack); once the run's trainer is disposed the worker posts 'idle' with its tensor count and takes the
// next 'start'. A run's own worker is terminated by the main thread after 'finished'/'failed'; the shared
// worker (tfjs-node, whose addon loads in one thread per process) lives on for the next run.
import { parentPort, threadId } from 'node:worker_threads';
import type { WorkerCommand, WorkerReport } from '../../shared/worker-protocol';
import { transferablesOf } from '../../shared/worker-protocol';
import { selectBackend, tf } from './backend';
import { DataError } from './data/sources';
import { TrainingLoop } from './train/loop';
import { Trainer } from './train/trainer';

const port = parentPort;
if (!port) throw new Error('the engine worker must run in a worker thread');

const post = (msg: WorkerReport) => port.postMessage(msg, transferablesOf(msg));

type StartCommand = Extract<WorkerCommand, { type: 'start' }>;

/** The run this worker hosts now; null between runs. */
interface ActiveRun {
  runId: string;
  loop: TrainingLoop | null;
  /** commands that arrive while the backend and model are still being set up */
  early: WorkerCommand[];
}

let active: ActiveRun | null = null;

function apply(cmd: WorkerCommand, target: TrainingLoop): void {
  if (cmd.type === 'pause') target.pause();
  else if (cmd.type === 'resume') target.resume();
  else if (cmd.type === 'stop') target.stop();
  else if (cmd.type === 'checkpoint') target.requestCheckpoint(cmd.reason);
}

async function train(cmd: StartCommand, run: ActiveRun): Promise<void> {
  let trainer: Trainer | null = null;
  // tensors alive before this run's model exists (after its backend is up): what must remain after dispose
  let baseline: number | null = null;
  try {
    const backend = await selectBackend(cmd.config.backend);
    baseline = tf.memory().numTensors;
    // A software adapter (SwiftShader, tests only) is a CPU emulation far too slow for the auto held-out size
    // (hundreds of batches): its final evaluation reads the periodic evaluation's batches, said in the log and
    // recorded in eval.jsonl's valTokens, so a correctness run still ends in minutes.
    const softwareAdapter = backend.adapter?.software === true && cmd.config.valTokens === 0;
    const config = softwareAdapter ? { ...cmd.config, valTokens: cmd.config.evalBatches * cmd.config.model.batch * cmd.config.model.ctx } : cmd.config;
    if (softwareAdapter) backend.notes.push(`software adapter (correctness only): the final evaluation reads ${config.valTokens} held-out tokens, not the auto size`);
    trainer = new Trainer(config);
    if (cmd.resumeFrom) trainer.importCheckpoint(cmd.resumeFrom);
    post({ type: 'ready', runId: cmd.runId, backend, parameterCount: trainer.model.parameterCount() });
    for (const n of backend.notes) post({ type: 'log', runId: cmd.runId, level: 'info', message: `backend: ${n}` });
    run.loop = new TrainingLoop(cmd.runId, trainer, post, cmd.stopAtStep);
    for (const c of run.early.splice(0)) apply(c, run.loop);
    await run.loop.run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const stack = err instanceof Error && !(err instanceof DataError) ? err.stack : undefined;
    post({ type: 'failed', runId: cmd.runId, message, ...(stack ? { stack } : {}) });
  } finally {
    trainer?.dispose();
    const numTensors = tf.memory().numTensors;
    const leakedTensors = baseline === null ? 0 : Math.max(0, numTensors - baseline);
    // a leak would grow the shared worker's memory run after run: said in the run's log, not hidden
    if (leakedTensors > 0) post({ type: 'log', runId: cmd.runId, level: 'warn', message: `${leakedTensors} tensor(s) of this run outlived its trainer` });
    active = null;
    post({ type: 'idle', runId: cmd.runId, threadId, numTensors, leakedTensors });
  }
}

port.on('message', (cmd: WorkerCommand) => {
  if (cmd.type === 'start') {
    if (active) {
      // the service waits for 'idle' before a new start; refusing keeps one trainer per worker at a time
      if (cmd.runId === active.runId) post({ type: 'log', runId: cmd.runId, level: 'warn', message: `run ${cmd.runId} is already training in this worker; start ignored` });
      else post({ type: 'failed', runId: cmd.runId, message: `engine worker busy: run ${active.runId} is still training here, so run ${cmd.runId} was not started (one run at a time per worker)` });
      return;
    }
    active = { runId: cmd.runId, loop: null, early: [] };
    void train(cmd, active);
    return;
  }
  if (!active || cmd.runId !== active.runId) {
    post({ type: 'log', runId: cmd.runId, level: 'warn', message: `no run ${cmd.runId} in this worker; ${cmd.type} ignored` });
    return;
  }
  if (active.loop) apply(cmd, active.loop);
  else active.early.push(cmd);
});
