// Engine worker thread entry (placeholder until the training engine lands).
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => undefined);
