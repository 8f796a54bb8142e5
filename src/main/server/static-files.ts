// Serves the built renderer (out/renderer) read-only: paths resolved inside the folder, never outside it.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** out/renderer next to the built CLI (out/main) or, from sources, at the repository root. */
export function defaultRendererDir(): string {
  const candidates = ['../renderer', '../../../out/renderer'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[candidates.length - 1];
}

export class RendererNotBuiltError extends Error {
  constructor(dir: string) {
    super(`the app is not built: ${join(dir, 'index.html')} is missing. Run \`npm run build\` first.`);
  }
}

export function checkRendererDir(dir: string): void {
  if (!existsSync(join(dir, 'index.html'))) throw new RendererNotBuiltError(dir);
}

/** The file for a URL path, or null when it is outside the folder or missing. */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rel = decoded === '/' || decoded === '' ? 'index.html' : normalize(decoded).replace(/^([/\\])+/, '');
  const base = resolve(root);
  const file = resolve(base, rel);
  if (file !== base && !file.startsWith(base + sep)) return null;
  try {
    return statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

export async function readStatic(file: string): Promise<{ body: Buffer; type: string }> {
  return { body: await readFile(file), type: MIME[extname(file).toLowerCase()] ?? 'application/octet-stream' };
}
