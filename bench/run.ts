// `npm run bench [-- --only routing,store] [--quick] [--out FILE]`: runs the benchmark sections, prints
// their tables and writes all figures to bench/results/<time>.json (and bench/results/latest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext, BenchModule, BenchSection } from './types';

const SECTIONS: Record<string, () => Promise<{ default: BenchModule }>> = {
  routing: () => import('./routing'),
  training: () => import('./training'),
  store: () => import('./store'),
  external: () => import('./external-run'),
  native: () => import('./native'),
  experts: () => import('./experts'),
  attention: () => import('./attention'),
  fused: () => import('./fused'),
  kernels: () => import('./kernels'),
  torch: () => import('./torch-pairs'),
  ui: () => import('./ui'),
};

function table(s: BenchSection): string {
  const cells = [s.columns, ...s.rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = s.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: Array<string | number>) => r.map((c, i) => String(c ?? '').padEnd(widths[i]!)).join('  ');
  const out = [`\n## ${s.title}`, line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  for (const n of s.notes ?? []) out.push(`  note: ${n}`);
  return out.join('\n');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(1) : a >= 1 ? x.toFixed(3) : x.toPrecision(3);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const names = values.only ? values.only.split(',') : Object.keys(SECTIONS);
  const unknown = names.filter((n) => !SECTIONS[n]);
  if (unknown.length) throw new Error(`unknown bench section(s): ${unknown.join(', ')} (known: ${Object.keys(SECTIONS).join(', ')})`);
  const ctx: BenchContext = { quick: values.quick, log: (m) => console.log(`  … ${m}`) };
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version };
  console.log(`Loadscope bench on ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB, Node ${machine.node}${ctx.quick ? ' (quick)' : ''}`);
  const results: Record<string, BenchSection[] | { error: string }> = {};
  let failed = false;
  for (const name of names) {
    console.log(`\n# ${name}`);
    try {
      const sections = await (await SECTIONS[name]!()).default(ctx);
      results[name] = sections;
      for (const s of sections) console.log(table(s));
    } catch (err) {
      failed = true;
      const message = err instanceof Error ? err.message : String(err);
      results[name] = { error: message };
      console.log(`  FAILED: ${message}`);
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = values.out ?? `bench/results/${stamp}.json`;
  const payload = JSON.stringify({ date: new Date().toISOString(), machine, quick: ctx.quick, results }, null, 1);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, payload);
  if (!values.out) writeFileSync('bench/results/latest.json', payload);
  console.log(`\nwrote ${file}`);
  if (failed) process.exitCode = 1;
}

await main();
