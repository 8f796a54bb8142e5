// Engine worker thread entry: speaks only src/shared/worker-protocol.ts; one run per worker.
// Every failure becomes a 'failed' report with its message (user errors without a stack); the main
// thread terminates the worker after 'finished' or 'failed'.
import { parentPort } from 'node:worker_threads';
import type { WorkerCommand, WorkerReport } from '../../shared/worker-protocol';
import { transferablesOf } from '../../shared/worker-protocol';
import { selectBackend } from './backend';
import { DataError } from './data/sources';
import { TrainingLoop } from './train/loop';
import { Trainer } from './train/trainer';

const port = parentPort;
if (!port) throw new Error('the engine worker must run in a worker thread');

const post = (msg: WorkerReport) => port.postMessage(msg, transferablesOf(msg));

let runId: string | null = null;
let loop: TrainingLoop | null = null;
/** commands that arrive while the backend and model are still being set up */
const early: WorkerCommand[] = [];

function apply(cmd: WorkerCommand, target: TrainingLoop): void {
  if (cmd.type === 'pause') target.pause();
  else if (cmd.type === 'resume') target.resume();
  else if (cmd.type === 'stop') target.stop();
  else if (cmd.type === 'checkpoint') target.requestCheckpoint(cmd.reason);
}

async function start(cmd: Extract<WorkerCommand, { type: 'start' }>): Promise<void> {
  let trainer: Trainer | null = null;
  try {
    const backend = await selectBackend(cmd.config.backend);
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
    loop = new TrainingLoop(cmd.runId, trainer, post, cmd.stopAtStep);
    for (const c of early.splice(0)) apply(c, loop);
    await loop.run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const stack = err instanceof Error && !(err instanceof DataError) ? err.stack : undefined;
    post({ type: 'failed', runId: cmd.runId, message, ...(stack ? { stack } : {}) });
  } finally {
    trainer?.dispose();
  }
}

port.on('message', (cmd: WorkerCommand) => {
  if (cmd.type === 'start') {
    if (runId !== null) {
      post({ type: 'log', runId: cmd.runId, level: 'warn', message: `this worker already runs ${runId}; start ignored` });
      return;
    }
    runId = cmd.runId;
    void start(cmd);
    return;
  }
  if (cmd.runId !== runId) {
    post({ type: 'log', runId: cmd.runId, level: 'warn', message: `no run ${cmd.runId} in this worker; ${cmd.type} ignored` });
    return;
  }
  if (loop) apply(cmd, loop);
  else early.push(cmd);
});
