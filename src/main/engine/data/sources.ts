// Training text sources: the synthetic language, the built-in corpus, or a user's UTF-8 file, as bytes.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';
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

/** The built-in corpus: the first State of the Union address of each U.S. President, 1790–2021 (public
 *  domain), shipped brotli-compressed in the repo (data/corpus/README.md says where it comes from). */
export const CORPUS_FILE = join('data', 'corpus', 'sotu-first-addresses.txt.br');

let corpusCache: Uint8Array | null = null;

/** Where the corpus may be: next to any ancestor of this file (src/main/engine/data, a bundled out/main, or
 *  inside a packaged app's app.asar), and in a packaged Electron app's resources. */
export function corpusCandidates(): string[] {
  const out: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    out.push(join(dir, CORPUS_FILE));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) out.push(join(resources, 'app.asar.unpacked', CORPUS_FILE));
  return out;
}

function corpusBytes(): Uint8Array {
  if (corpusCache) return corpusCache;
  const candidates = corpusCandidates();
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new DataError(`the built-in corpus file is missing (looked for ${candidates[0]}); reinstall Loadscope`);
  let text: Buffer;
  try {
    text = brotliDecompressSync(readFileSync(found));
  } catch (err) {
    throw new DataError(`the built-in corpus file is damaged (${found}: ${err instanceof Error ? err.message : String(err)}); reinstall Loadscope`);
  }
  corpusCache = new Uint8Array(text.buffer, text.byteOffset, text.byteLength);
  return corpusCache;
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
  if (source.kind === 'corpus') return { label: 'corpus: State of the Union addresses (first of each President)', bytes: corpusBytes() };
  return { label: `file: ${source.path}`, bytes: fileBytes(source.path) };
}
