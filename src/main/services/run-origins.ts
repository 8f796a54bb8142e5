// Where a training starts from besides a fresh config: a checkpoint of an earlier run (resume, branch),
// and the start-up pass that marks runs a dead process left 'running' as failed.
import type { EventName, EventPayloads } from '../../shared/ipc-contract';
import type { RunConfig } from '../../shared/run-config';
import type { CheckpointData } from '../../shared/worker-protocol';
import type { RunStoreApi } from '../store/types';
import { conflict, invalid, messageOf, notFound, ServiceError } from './errors';

export const INTERRUPTED_MESSAGE = 'Loadscope exited while this run was training (crash or kill); resume it from its last checkpoint';

/** A run's config (with `steps` as the new total) and one of its checkpoints. */
export async function loadCheckpoint(store: RunStoreApi, runId: string, step: number, steps?: number): Promise<{ config: RunConfig; checkpoint: CheckpointData | null; parentName: string }> {
  const reader = await store.open(runId).catch((err: unknown) => {
    throw err instanceof ServiceError ? err : notFound(`run ${runId}: ${messageOf(err)}`);
  });
  try {
    const have = reader.listCheckpoints().map((c) => c.step);
    // step 0 without a checkpoint: a run killed before its first checkpoint starts over from scratch
    if (step === 0 && !have.includes(0)) {
      const config: RunConfig = { ...reader.config, steps: steps ?? reader.config.steps };
      return { config, checkpoint: null, parentName: reader.meta.name };
    }
    // a checkpoint past the last committed step (its steps.jsonl line was torn) would leave a gap
    if (step > reader.lastStep) throw conflict(`run ${runId}: the checkpoint of step ${step} is after the last committed step ${reader.lastStep}; resume from an earlier checkpoint`);
    if (!have.includes(step)) throw notFound(`run ${runId} has no checkpoint at step ${step} (has: ${have.join(', ') || 'none'})`);
    const config: RunConfig = { ...reader.config, steps: steps ?? reader.config.steps };
    if (config.steps <= step) throw invalid(`steps must be above the checkpoint step ${step} (got ${config.steps})`, [{ path: 'steps', message: `must be above ${step}` }]);
    return { config, checkpoint: await reader.readCheckpoint(step), parentName: reader.meta.name };
  } finally {
    reader.close();
  }
}

/**
 * Runs on disk still marked running/paused whose writer is gone belong to a process that died: mark
 * them failed. A run another live process is writing (the store's writer lock) refuses openWriter
 * with a conflict and is left alone.
 */
export async function recoverInterrupted(
  store: RunStoreApi,
  isOurs: (runId: string) => boolean,
  emit: <E extends EventName>(event: E, payload: EventPayloads[E]) => void,
  log: (level: 'info' | 'warn', message: string) => void,
): Promise<string[]> {
  const marked: string[] = [];
  for (const item of await store.list()) {
    // an external trainer's run is its own: never marked failed here, whatever its status says
    if ((item.status !== 'running' && item.status !== 'paused') || isOurs(item.runId) || item.source === 'external') continue;
    try {
      const w = await store.openWriter(item.runId);
      w.setStatus('failed', { failure: INTERRUPTED_MESSAGE });
      await w.close();
      marked.push(item.runId);
    } catch (err) {
      if (!(err instanceof ServiceError && err.code === 'conflict')) log('warn', `could not mark interrupted run ${item.runId} failed: ${messageOf(err)}`);
    }
  }
  if (marked.length > 0) emit('runs:changed', { reason: 'interrupted runs marked failed' });
  return marked;
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e)));
  });
}
