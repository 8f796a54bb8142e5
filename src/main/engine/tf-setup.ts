// Side-effect import the core API needs before any training: gradient functions and chained tensor methods.
// @tensorflow/tfjs-core's Node (CommonJS) build registers no gradients, and its ESM files cannot be
// imported by Node directly (extensionless paths); the union package's Node build registers them all
// against the same tfjs-core instance. Backends are still chosen explicitly (backend.ts).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

// PROD silences tfjs's console hints (e.g. "install tfjs-node" on the first cpu tensor): the worker's
// only channel is its protocol, and BackendInfo.notes already says why faster backends were skipped.
tf.env().set('PROD', true);
