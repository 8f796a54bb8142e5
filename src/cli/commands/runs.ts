// `loadscope runs list|show|export|rename|delete`: the saved runs of the run store, for people and scripts.
import { createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { RunStore } from '../../main/store/run-store';
import { ServiceError } from '../../main/services/errors';
import type { RunReaderImpl } from '../../main/store/run-reader';
import { readRunCost } from '../../main/store/run-cost';
import { CliError, isFsError, type Command } from '../cli-util';
import { checkRunsFolder } from '../runs-folder';
import { nativeKernelsMissing } from '../../shared/native-status';
import { configLines } from '../../shared/config-summary';
import type { RunSummary } from '../../shared/reports';
import { join } from 'node:path';
import { readManifest } from '../../main/services/sweep-service';
import { readJsonFile } from '../../main/store/fs-util';

const USAGE = `usage: loadscope runs <list|show|export|rename|delete> [options]

  list [--sweep ID]         all runs (or one sweep's, with its swept options) with status and headline metrics
  show RUN                  one run: config, status, steps, checkpoints, warnings
  export RUN --series scalars|loads|eval|top-tokens --format csv|json [--out FILE]
  rename RUN NAME           give a run a new display name
  delete RUN [--yes]        remove a run's folder (asks on a terminal; --yes otherwise)

options:
  --runs DIR                runs folder (default: $LOADSCOPE_RUNS_DIR or ~/.loadscope/runs)
  --json                    machine-readable output (list, show)`;

const SERIES = ['scalars', 'loads', 'eval', 'top-tokens'] as const;
const FORMATS = ['csv', 'json'] as const;

const command: Command = async (argv) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        runs: { type: 'string' },
        sweep: { type: 'string' },
        json: { type: 'boolean', default: false },
        series: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError(`runs: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  if (values.help || !sub) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  // a folder named with --runs must be one (the default may not exist yet: no runs so far)
  if (values.runs !== undefined) {
    try {
      checkRunsFolder(values.runs, '--runs', false);
    } catch (err) {
      // scripts reading stdout still see "no runs"; the exit code and stderr say the folder is missing
      if (sub === 'list' && !existsSync(resolve(values.runs))) console.log(`no runs (there is no folder ${resolve(values.runs)})`);
      throw err;
    }
  }
  const store = new RunStore(values.runs ?? RunStore.defaultRoot());
  const need = (n: number, what: string) => {
    if (args.length !== n) throw new CliError(`runs ${sub}: expected ${what}\n\n${USAGE}`);
  };
  try {
    switch (sub) {
      case 'list':
        need(0, 'no arguments');
        return await list(store, values.json, values.sweep);
      case 'show':
        need(1, 'a run id');
        return await show(store, args[0]!, values.json);
      case 'export':
        need(1, 'a run id');
        return await exportRun(store, args[0]!, values.series, values.format, values.out);
      case 'rename':
        need(2, 'a run id and a name');
        await store.rename(args[0]!, args[1]!);
        console.log(`renamed ${args[0]} to "${args[1]!.trim()}"`);
        return 0;
      case 'delete':
        need(1, 'a run id');
        return await remove(store, args[0]!, values.yes);
      default:
        throw new CliError(`runs: unknown subcommand "${sub}"\n\n${USAGE}`);
    }
  } catch (err) {
    // the store's expected failures (no such run, read-only, in use) are user errors: one line, no stack
    if (err instanceof ServiceError) throw new CliError(err.message, 1);
    // a run folder damaged in ways the reader does not survive (a file where a folder belongs, an
    // over-long line): one line naming the run and the problem
    if (err instanceof CliError) throw err;
    const what = args[0] ? `run ${args[0]}` : `runs folder ${store.root}`;
    if (isFsError(err) || err instanceof Error) throw new CliError(`cannot read ${what}: ${err.message}`, 1);
    throw err;
  }
};
export default command;

const fmt = (x: number | null, digits = 3) => (x === null ? '-' : x.toFixed(digits));

async function list(store: RunStore, json: boolean, sweepId?: string): Promise<number> {
  let items = await store.list();
  if (sweepId !== undefined) {
    // the manifest names the sweep's runs (the runs' meta.json carry the sweep id too)
    const cells = new Map(readManifest(store.root, sweepId).cells.filter((c) => c.runId).map((c) => [c.runId!, c]));
    items = items.filter((i) => cells.has(i.runId)).map((i) => {
      const c = cells.get(i.runId)!;
      const cfg = readJsonFile(join(store.root, i.runId, 'config.json'));
      const strategyOptions = cfg.ok ? (cfg.value as { strategyOptions?: Record<string, unknown> }).strategyOptions ?? {} : {};
      // options: the swept values; strategyOptions: every option the run trained with (defaults filled in)
      return { ...i, sweep: { id: sweepId, cell: c.key }, options: { strategy: c.strategy, ...c.options, seed: c.seed }, strategyOptions };
    });
  }
  if (json) {
    console.log(JSON.stringify(items, null, 1));
    return 0;
  }
  if (items.length === 0) {
    console.log(`no runs in ${store.root}`);
    return 0;
  }
  const rows = [['RUN', 'NAME', 'STATUS', 'STRATEGY', 'PRESET', 'STEPS', 'AvgMaxVio', 'SupMaxVio', 'PPL', 'DROP', 'DEMANDED', 'TIME', sweepId ? 'OPTIONS' : 'TAGS']];
  for (const i of items) {
    const opts = (i as { options?: Record<string, unknown> }).options;
    const last = opts ? Object.entries(opts).filter(([k]) => k !== 'strategy').map(([k, x]) => `${k}=${String(x)}`).join(',') : i.tags.join(',');
    rows.push([i.runId + (i.warnings.length ? ' !' : ''), i.name, i.status, i.strategy, i.preset, `${i.steps}/${i.totalSteps}`, fmt(i.avgMaxVio), fmt(i.supMaxVio), fmt(i.perplexity, 2), dropCell(i.dropRate), fmt(i.demandAvgMaxVio ?? null), i.trainMs == null ? '-' : `${(i.trainMs / 1000).toFixed(1)}s`, last]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  const warned = items.filter((i) => i.warnings.length > 0);
  for (const i of warned) for (const w of i.warnings) console.log(`! ${i.runId}: ${w}`);
  return 0;
}

async function show(store: RunStore, runId: string, json: boolean): Promise<number> {
  const r = (await store.open(runId)) as RunReaderImpl;
  try {
    const checkpoints = r.listCheckpoints();
    const s = r.scalars({ fromStep: r.lastStep, maxPoints: 2 });
    const summary = r.meta.summary;
    const costModel = readRunCost(r.dir, r.config);
    const detail = { meta: r.meta, config: r.config, summary, lastStep: r.lastStep, readOnly: r.readOnly, warnings: r.warnings, checkpoints, dir: r.dir, costModel };
    if (json) {
      console.log(JSON.stringify(detail, null, 1));
      return 0;
    }
    const m = r.meta;
    const c = r.config;
    const lines = [
      `${m.name}  (${runId})`,
      `  status      ${m.status}${m.failure ? `: ${m.failure}` : ''}`,
      `  created     ${m.createdAt || '-'}`,
      `  folder      ${r.dir}`,
      `  steps       ${r.lastStep} / ${c.steps}`,
      `  last step   loss ${fmt(s.loss.at(-1) ?? null)}  MaxVio ${fmt(s.maxVio.at(-1) ?? null)}  AvgMaxVio ${fmt(s.avgMaxVio.at(-1) ?? null)}  SupMaxVio ${fmt(s.supMaxVio.at(-1) ?? null)}`,
      ...(summary ? [summaryLine(summary)] : []),
      ...configLines(c, m.backend).map((l) => `  ${l.label.padEnd(11)} ${l.value}`),
      ...(nativeKernelsMissing(m.backend) ? [`  native      ${nativeKernelsMissing(m.backend)}`] : []),
      `  tags        ${m.tags.join(', ') || '-'}`,
      `  parent      ${m.parent ? `${m.parent.runId} at step ${m.parent.step}` : '-'}`,
      `  checkpoints ${checkpoints.map((k) => `${k.step} (${k.reason})`).join(', ') || '-'}`,
      'unavailable' in costModel
        ? `  EP cost     - (${costModel.unavailable})`
        : `  EP cost     ${costModel.devices} devices: slowest device ${(100 * costModel.meanSlowestShare).toFixed(1)}% (perfect ${(100 / costModel.devices).toFixed(1)}%), step time ×${costModel.stepTimeRatio.toFixed(3)} of balanced, ${costModel.crossTokens} assignments / ${(costModel.crossBytes / 2 ** 20).toFixed(1)} MiB across devices`,
    ];
    if (r.readOnly) lines.push('  read-only   (damaged: see warnings)');
    for (const w of r.warnings) lines.push(`  ! ${w}`);
    console.log(lines.join('\n'));
    return 0;
  } finally {
    r.close();
  }
}

/** Drop rate for the runs table; a run that drops tokens says so (its routed MaxVio leaves the drops out). */
function dropCell(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '-';
  return rate > 0 ? `${(100 * rate).toFixed(1)}%!` : '0%';
}

/** The end-of-run figures, drops called out: a capacity run's routed MaxVio alone reads as perfect balance. */
function summaryLine(s: RunSummary): string {
  const drops = s.dropRate ? `  DROPS TOKENS ${(100 * s.dropRate).toFixed(1)}%` : '';
  const demand = s.demandAvgMaxVio === undefined ? '' : `  demanded AvgMaxVio ${fmt(s.demandAvgMaxVio)} SupMaxVio ${fmt(s.demandSupMaxVio ?? null)}`;
  const train = s.trainMs === undefined ? '' : `  training ${(s.trainMs / 1000).toFixed(1)} s`;
  // gradient accumulation: AvgMaxVio above is the global batch's, this the micro-batches'
  const micro = s.avgMaxVioMicro === undefined ? '' : `  micro-batch AvgMaxVio ${fmt(s.avgMaxVioMicro)} SupMaxVio ${fmt(s.supMaxVioMicro ?? null)}`;
  return `  summary     AvgMaxVio ${fmt(s.avgMaxVio)} SupMaxVio ${fmt(s.supMaxVio)}${micro}${demand}${drops}${train}  wall ${(s.wallMs / 1000).toFixed(1)} s`;
}

async function exportRun(store: RunStore, runId: string, series: string | undefined, format: string | undefined, out: string | undefined): Promise<number> {
  if (!series || !(SERIES as readonly string[]).includes(series)) throw new CliError(`runs export: --series must be one of ${SERIES.join(', ')}`);
  if (!format || !(FORMATS as readonly string[]).includes(format)) throw new CliError(`runs export: --format must be csv or json`);
  const r = (await store.open(runId)) as RunReaderImpl;
  try {
    const chunks = r.exportChunks(series as (typeof SERIES)[number], format as 'csv' | 'json');
    const file = out ? createWriteStream(out) : null;
    const sink: NodeJS.WritableStream = file ?? process.stdout;
    for (const chunk of chunks) {
      if (!sink.write(chunk)) await new Promise((resolve) => sink.once('drain', resolve));
    }
    if (file) {
      await new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.end(() => resolve());
      });
      console.error(`wrote ${series} of ${runId} to ${out}`);
    }
    for (const w of r.warnings) console.error(`! ${w}`);
    return 0;
  } finally {
    r.close();
  }
}

async function remove(store: RunStore, runId: string, yes: boolean): Promise<number> {
  const dir = store.dirOf(runId);
  if (!yes) {
    if (!process.stdin.isTTY) throw new CliError(`runs delete: refusing to delete ${runId} without confirmation; pass --yes (stdin is not a terminal)`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Delete run ${runId} and its folder ${dir}? This cannot be undone. [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('not deleted');
      return 1;
    }
  }
  await store.delete(runId);
  console.log(`deleted ${runId}`);
  return 0;
}
