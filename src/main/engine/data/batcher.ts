// Train/validation split and batches of byte windows; the data order is a seeded PRNG's, carried in checkpoints.
import { Rng, type RngState } from '../rng';
import { DataError, type TextData } from './sources';

export interface Batch {
  /** input bytes, [batch × ctx] row-major */
  inputs: Int32Array;
  /** next-byte targets, same shape */
  targets: Int32Array;
  batch: number;
  seqLen: number;
}

/**
 * nanoGPT-style sampling: each training batch takes `batch` windows at random offsets of the training
 * split; validation reads fixed, evenly spaced windows of the validation split, so every evaluation
 * sees the same tokens and never touches the training PRNG.
 */
export class Batcher {
  readonly train: Uint8Array;
  readonly val: Uint8Array;
  private rng: Rng;

  constructor(
    data: TextData,
    private readonly batch: number,
    private readonly ctx: number,
    validationFraction: number,
    seed: number,
  ) {
    const nVal = Math.floor(data.bytes.length * validationFraction);
    this.train = data.bytes.subarray(0, data.bytes.length - nVal);
    this.val = data.bytes.subarray(data.bytes.length - nVal);
    const need = ctx + 1;
    if (this.train.length < need || this.val.length < need) {
      throw new DataError(
        `${data.label} is too short: ${data.bytes.length} bytes give ${this.train.length} training and ${this.val.length} validation bytes; each split needs at least ctx + 1 = ${need}`,
      );
    }
    this.rng = new Rng(seed ^ 0x5eed_da7a);
  }

  nextTrain(): Batch {
    const starts = Array.from({ length: this.batch }, () => this.rng.int(this.train.length - this.ctx));
    return this.windows(this.train, starts);
  }

  /** the i-th of the fixed validation batches */
  valBatch(i: number, count: number): Batch {
    const span = this.val.length - this.ctx;
    const n = count * this.batch;
    const starts = Array.from({ length: this.batch }, (_, b) => Math.floor(((i * this.batch + b) * span) / n));
    return this.windows(this.val, starts);
  }

  getState(): RngState {
    return this.rng.getState();
  }

  setState(state: RngState): void {
    this.rng.setState(state);
  }

  private windows(src: Uint8Array, starts: number[]): Batch {
    const S = this.ctx;
    const inputs = new Int32Array(starts.length * S);
    const targets = new Int32Array(starts.length * S);
    starts.forEach((s, b) => {
      for (let j = 0; j < S; j++) {
        inputs[b * S + j] = src[s + j]!;
        targets[b * S + j] = src[s + j + 1]!;
      }
    });
    return { inputs, targets, batch: starts.length, seqLen: S };
  }
}
