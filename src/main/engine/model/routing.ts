// Routers for the MoE forward generator: host (sync scores), device (async scores), replay (earlier picks).
//
// Shape legend: T tokens, E experts. The forward passes (model.ts, moe.ts) are generators that yield one
// RouteRequest per MoE layer and resume with that layer's Selection:
//   host    reads the scores with dataSync and asks the strategy right away (cpu, wasm, tfjs-node CPU).
//   device  reads them with data() (WebGPU has no synchronous read in Node) and runs the strategy on the
//           cpu backend on a host copy, so strategies keep one tensor-based interface on every backend.
//   replay  hands back selections a device pass made earlier: the taped pass (variableGrads needs a
//           synchronous function) recomputes the same scores and reuses the same choices.
import * as tf from '@tensorflow/tfjs-core';
import type { Selection } from '../strategies/types';
import type { RoutingContext } from './moe';

/** One layer's gate scores and logits, live tensors of the pass (with gradient inside the tape). */
export interface RouteRequest {
  layer: number;
  scoresTE: tf.Tensor2D;
  logitsTE: tf.Tensor2D;
}

/** A selection, plus the host copy of the scores it was made from (gate mass; objective ratio when kept). */
export interface Routed extends Selection {
  scoresData: Float32Array;
}

export type ForwardSteps<R> = Generator<RouteRequest, R, Routed>;

/** Run a forward generator to its end with a synchronous router. */
export function driveSync<R>(gen: ForwardSteps<R>, route: (req: RouteRequest) => Routed): R {
  let r = gen.next(undefined as unknown as Routed);
  while (!r.done) r = gen.next(route(r.value));
  return r.value;
}

/** Run a forward generator to its end with an asynchronous router. */
export async function driveAsync<R>(gen: ForwardSteps<R>, route: (req: RouteRequest) => Promise<Routed>): Promise<R> {
  let r = gen.next(undefined as unknown as Routed);
  while (!r.done) r = gen.next(await route(r.value));
  return r.value;
}

function selectOnCopies(scores: Float32Array, logits: Float32Array, req: RouteRequest, ctx: RoutingContext): Routed {
  const [T, E] = req.scoresTE.shape;
  // detached copies: nothing the strategy does can enter the gradient tape
  const detScores = tf.tensor2d(scores, [T, E]);
  const detLogits = tf.tensor2d(logits, [T, E]);
  try {
    const sel = ctx.strategies[req.layer]!.select({ scoresTE: detScores, logitsTE: detLogits, seqLen: ctx.seqLen, training: ctx.training });
    return { ...sel, scoresData: scores };
  } finally {
    detScores.dispose();
    detLogits.dispose();
  }
}

export function hostRoute(req: RouteRequest, ctx: RoutingContext): Routed {
  return selectOnCopies(req.scoresTE.dataSync() as Float32Array, req.logitsTE.dataSync() as Float32Array, req, ctx);
}

/** Asynchronous reads, then the strategy on the cpu backend; the device backend is active again after. */
export async function deviceRoute(req: RouteRequest, ctx: RoutingContext): Promise<Routed> {
  const [scores, logits] = (await Promise.all([req.scoresTE.data(), req.logitsTE.data()])) as [Float32Array, Float32Array];
  const device = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return selectOnCopies(scores, logits, req, ctx);
  } finally {
    await tf.setBackend(device);
  }
}

/** A router that returns the selections a device pass recorded, layer by layer. */
export function replayRoute(recorded: Routed[]): (req: RouteRequest) => Routed {
  return (req) => {
    const r = recorded[req.layer];
    if (!r) throw new Error(`replay: no recorded selection for layer ${req.layer}`);
    return r;
  };
}
