// Fault #8: big inputs. A valid text file past V8's string-length limit is read (chunked UTF-8 check,
// also across chunk boundaries inside multi-byte characters); a model that cannot fit is refused with
// its size before anything is built; `train --out /proc/x` fails fast with one line.
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Utf8Checker, fileBytes } from '../../../src/main/engine/data/sources';
import { memoryProblem } from '../../../src/shared/memory-estimate';
import { PRESETS } from '../../../src/shared/presets';
import { cli, hasStack, lastLine } from './cli-helpers';

const dir = mkdtempSync(join(tmpdir(), 'loadscope-big-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BIG = 629 * 1e6;
const st = statfsSync(dir);
const roomForBig = st.bavail * st.bsize > 3 * BIG && freemem() > 3 * BIG;

describe('8 big inputs', () => {
  it('8 big inputs: the chunked UTF-8 check accepts characters split across chunks and refuses bad or cut-off bytes', () => {
    const text = Buffer.from('héllo wörld € 😀 ok\n'.repeat(50), 'utf8');
    const path = join(dir, 'multi.txt');
    writeFileSync(path, text);
    // 7-byte chunks cut 2-, 3- and 4-byte characters at every possible offset
    for (const chunk of [1, 2, 3, 7, 64]) expect(Buffer.from(fileBytes(path, chunk)).equals(text)).toBe(true);
    const bad = Buffer.from(text);
    bad[101] = 0xff;
    writeFileSync(join(dir, 'bad.txt'), bad);
    expect(() => fileBytes(join(dir, 'bad.txt'), 7)).toThrow(/not valid UTF-8/);
    const c = new Utf8Checker();
    c.push(Buffer.from('ok €', 'utf8').subarray(0, 5)); // the euro sign cut after its first byte
    expect(c.end()).toBe(false);
  });

  it.skipIf(!roomForBig)('8 big inputs: a valid 629 MB UTF-8 file (past the ~512 MB string limit) is read, not refused (skips without 2 GB of free disk and memory)', () => {
    const path = join(dir, 'big.txt');
    const block = Buffer.from('the quick brown fox — über straße 😀\n'.repeat(1 << 14), 'utf8');
    const fd = openSync(path, 'w');
    let n = 0;
    while (n + block.length <= BIG) n += writeSync(fd, block);
    closeSync(fd);
    const bytes = fileBytes(path);
    expect(bytes.length).toBe(n);
    expect(n).toBeGreaterThan(2 ** 29);
    expect(Buffer.from(bytes.subarray(0, block.length)).equals(block)).toBe(true);
    rmSync(path);
  }, 120_000);

  it('8 big inputs: models that cannot fit are refused with their size; tiny fits', () => {
    expect(memoryProblem(PRESETS.tiny, { dense: false, backend: 'wasm', machineBytes: 16 * 2 ** 30 })).toBeNull();
    expect(memoryProblem(PRESETS['paper-64e'], { dense: false, backend: 'wasm', machineBytes: 16 * 2 ** 30 })).toMatch(/748\.4 M parameters, about [\d.]+ GiB to train.*wasm backend can address at most 4 GiB/);
    const huge = { ...PRESETS.tiny, ctx: 4096, dModel: 4096, heads: 64, layers: 48, experts: 256, topK: 16, expertHidden: 16384, batch: 1024 };
    expect(memoryProblem(huge, { dense: true, backend: 'tensorflow', machineBytes: 16 * 2 ** 30 })).toMatch(/too large: one of its tensors would hold [\d.e+]+ values \(the limit is 2\^31\)/);
    const r = cli(['train', '--preset', 'paper-64e', '--steps', '2', '--out', join(dir, 'runs')]);
    expect(r.code).toBe(2);
    expect(hasStack(r.stderr)).toBe(false);
    expect(lastLine(r.stderr)).toMatch(/^loadscope: --preset \(preset\): this model does not fit: .* GiB/);
  });

  it('8 big inputs: train --out /proc/x fails fast with one line', () => {
    const r = cli(['train', '--preset', 'tiny', '--steps', '2', '--out', '/proc/x'], {}, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['loadscope: --out: /proc/x is on a kernel pseudo file system, not a place for runs']);
  });
});
