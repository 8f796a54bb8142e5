// What a custom op's backward pass needs from its forward inputs, saved without cloning the variables among them.
//
// TF.js's customGrad save() clones each tensor it is given (an Identity kernel, a tape node and a kept tensor
// each), so that intermediate tensors outlive the forward pass's tidy. Variables need no such care: they live
// across the step and nothing reassigns them between a forward pass and its backward pass (the optimizer
// runs after variableGrads returns). Only the other inputs are saved; the backward gets the full list back.
import * as tf from '@tensorflow/tfjs-core';

/** Saves inputs' non-variables; the returned function maps the backward's saved list back to all inputs. */
export function saveInputs(save: tf.GradSaveFunc, inputs: tf.Tensor[]): (saved: tf.Tensor[]) => tf.Tensor[] {
  save(inputs.filter((t) => !(t instanceof tf.Variable)));
  return (saved) => {
    let j = 0;
    return inputs.map((t) => (t instanceof tf.Variable ? t : saved[j++]!));
  };
}
