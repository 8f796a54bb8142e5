// Side-effect import the core API needs before any training: gradient functions and chained tensor methods,
// registered without the 140 MB union package `@tensorflow/tfjs`.
// tfjs-core's Node (CommonJS) build registers no gradients; they live only in its per-file ES modules
// (dist/gradients/*.js), which Node cannot load as shipped: their imports omit the `.js` extension and
// `./gradients` names both a file and a folder. A resolve hook for that folder alone fixes both, then the
// ESM register_all_gradients.js registers every gradient in tfjs-core's global registry, which the CommonJS
// build (and so every backend) shares. Backends are still chosen explicitly (backend.ts).
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

/** Adds `.js` to extensionless relative imports inside tfjs-core's dist/ and marks those files ES modules. */
const HOOK = `
const DIST = '/@tensorflow/tfjs-core/dist/';
export async function resolve(specifier, context, next) {
  const fromDist = (context.parentURL ?? '').includes(DIST);
  if (fromDist && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    return { ...(await next(specifier + '.js', context)), format: 'module' };
  }
  const r = await next(specifier, context);
  return r.url.includes(DIST) && r.url.endsWith('.js') && !r.url.endsWith('/tf-core.node.js') ? { ...r, format: 'module' } : r;
}`;

register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');

// PROD silences tfjs's console hints (e.g. "install tfjs-node" on the first cpu tensor): the worker's
// only channel is its protocol, and BackendInfo.notes already says why faster backends were skipped.
tf.env().set('PROD', true);
