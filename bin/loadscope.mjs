#!/usr/bin/env node
// `loadscope` command: runs the built CLI (out/main/cli.js); from a source checkout without a build it
// falls back to the TypeScript sources through tsx (a dev dependency).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'out', 'main', 'cli.js');
const fromSource = process.env.LOADSCOPE_FROM_SOURCE === '1' || !existsSync(built);

if (fromSource) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('loadscope: no build found (out/main/cli.js). Run `npm run build` first.');
    process.exit(2);
  }
  await import(pathToFileURL(join(root, 'src', 'cli', 'loadscope.ts')).href);
} else {
  await import(pathToFileURL(built).href);
}
