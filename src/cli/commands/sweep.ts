// `loadscope sweep`: a grid of runs (strategies × option values × seeds) queued on the training slots,
// tagged with one sweep id; --resume ID queues what is missing after a restart; Ctrl-C cancels it whole.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, type Command } from '../cli-util';
import { formatFieldErrors } from '../../shared/run-config';
import type { SweepSpec } from '../../shared/sweep';
import { composeServices, type Services } from '../../main/services/compose';
import type { EventPayloads } from '../../shared/ipc-contract';
import { ServiceError } from '../../main/services/errors';
import { defaultRunsDir } from '../../main/services/paths';
import { configFromFlags } from './train';

const HELP = `usage: loadscope sweep --strategy A,B [--set NAME=V1,V2,...] --seeds 1,2,3 [run options]
       loadscope sweep --resume SWEEP_ID     queue the runs of a sweep that are missing or incomplete

  --strategy A,B,...     strategies to compare (one sweep axis)
  --set NAME=V1,V2       a strategy option's values (repeatable); multiplies only the strategies that have it
  --seeds 1,2,3          seeds (default 1)
  --name TEXT            the sweep's name
  --preset --steps --data --lr --backend --dispatch --z-loss --score-fn --eval-every --checkpoint-every --micro-batches
                         shared by every run, as in loadscope train
  --out DIR, --runs DIR  the runs folder (default ${defaultRunsDir()}); the manifest is DIR/.sweeps/<id>.json
  --json                 one JSON object per finished run on stdout, then a summary object
Ctrl-C checkpoints and stops every run of the sweep; --resume continues it.`;

const OPTIONS = {
  preset: { type: 'string' }, strategy: { type: 'string' }, set: { type: 'string', multiple: true }, seeds: { type: 'string' }, steps: { type: 'string' },
  data: { type: 'string' }, lr: { type: 'string' }, backend: { type: 'string' }, dispatch: { type: 'string' }, 'z-loss': { type: 'string' },
  'score-fn': { type: 'string' }, 'eval-every': { type: 'string' }, 'checkpoint-every': { type: 'string' }, 'micro-batches': { type: 'string' }, name: { type: 'string' },
  out: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, resume: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

const list = (flag: string, v: string): string[] => {
  const items = v.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new CliError(`${flag}: empty value in "${v}" (expected a comma-separated list)`);
  return items;
};
const value = (x: string): number | string => (Number.isFinite(Number(x)) ? Number(x) : x);

/** The sweep spec the flags describe (the shared schema checks the values). */
export function specFromFlags(v: Record<string, string | string[] | boolean | undefined>): SweepSpec {
  if (typeof v.strategy !== 'string') throw new CliError('--strategy: give the strategies to sweep, e.g. --strategy bip,loss-free');
  const options: Record<string, Array<number | string>> = {};
  for (const s of (v.set as string[] | undefined) ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new CliError(`--set expects NAME=V1,V2,..., got "${s}"`);
    options[s.slice(0, eq).trim()] = list(`--set ${s.slice(0, eq).trim()}`, s.slice(eq + 1)).map(value);
  }
  const seeds = list('--seeds', (v.seeds as string | undefined) ?? '1').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`--seeds: "${x}" is not a non-negative integer`);
    return n;
  });
  const { strategy: _s, strategyOptions: _o, seed: _seed, name, ...base } = configFromFlags({ ...v, set: undefined });
  return { ...(name ? { name } : {}), base, strategies: list('--strategy', v.strategy) as SweepSpec['strategies'], options, seeds };
}

/**
 * Runs on the tensorflow backend train one at a time in the shared engine worker (its addon loads once per
 * process), whatever the slots: say so once per run, on stderr, so a waiting sweep does not look stuck.
 */
function announceSharedQueue(services: Services): () => void {
  const told = new Set<string>();
  return services.events.subscribe({
    isBusy: () => false,
    send: (event, payload) => {
      if (event !== 'run:status') return;
      const s = payload as EventPayloads['run:status'];
      if (s.status !== 'created' || s.queuedFor !== 'shared-worker' || told.has(s.runId)) return;
      told.add(s.runId);
      console.error(`loadscope: run ${s.runId} ${s.message ?? 'queued for the shared engine worker'}`);
    },
  });
}

const command: Command = async (argv) => {
  let v: Record<string, string | string[] | boolean | undefined>;
  try {
    v = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new CliError(`sweep: ${err instanceof Error ? err.message : String(err)} (see loadscope sweep --help)`);
  }
  if (v.help) return console.log(HELP), 0;
  const resumeId = v.resume as string | undefined;
  if (resumeId) {
    const extra = Object.keys(v).filter((k) => v[k] !== undefined && !['resume', 'json', 'out', 'runs'].includes(k));
    if (extra.length) throw new CliError(`--resume continues a sweep with its own grid: drop --${extra.join(', --')}`);
  }
  const spec = resumeId ? null : specFromFlags(v);
  const runsDir = resolve((v.out ?? v.runs ?? defaultRunsDir()) as string);
  const json = v.json === true;
  const services = await composeServices({ runsDir, recover: false, log: (level, m) => (level === 'warn' ? console.error(`loadscope: ${m}`) : undefined) });
  // before the runs are queued: their first queue place is announced while the sweep starts
  const unsubscribe = announceSharedQueue(services);
  let started: { sweepId: string; runIds: string[] };
  try {
    started = resumeId ? await services.sweeps.resume(resumeId) : await services.sweeps.start(spec);
  } catch (err) {
    unsubscribe();
    await services.dispose();
    if (err instanceof ServiceError) {
      const msg = err.fieldErrors?.length ? formatFieldErrors(err.fieldErrors) : err.message;
      throw new CliError(msg, err.code === 'invalid' ? 2 : 1);
    }
    throw err;
  }
  const { sweepId, runIds } = started;
  const total = services.sweeps.get(sweepId).runs;
  console.error(`loadscope: sweep ${sweepId}: ${runIds.length} run(s) queued of ${total} (${services.settings.get().maxConcurrentRuns} at a time) → ${runsDir}`);

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('loadscope: interrupted: cancelling the sweep (checkpointing running runs)… (Ctrl-C again to quit without)');
    void services.sweeps.cancel(sweepId).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  let finished = 0;
  await Promise.all(runIds.map(async (id) => {
    const status = await services.training.waitFor(id);
    finished++;
    const row = services.sweeps.get(sweepId).rows.find((r) => r.runId === id);
    if (json) process.stdout.write(JSON.stringify({ type: 'run', sweepId, runId: id, status, key: row?.key, options: row?.options }) + '\n');
    else console.error(`loadscope: [${finished}/${runIds.length}] ${row?.key ?? id}: ${status}`);
  }));
  await services.sweeps.waitFor(sweepId);
  unsubscribe();
  process.off('SIGINT', onSigint);
  await services.dispose();
  const detail = services.sweeps.get(sweepId);
  if (json) process.stdout.write(JSON.stringify({ type: 'summary', sweepId, status: detail.status, runs: detail.runs, completed: detail.completed }) + '\n');
  else console.error(`loadscope: sweep ${sweepId} ${detail.status}: ${detail.completed}/${detail.runs} runs completed; list them with: loadscope runs list --runs ${runsDir} --sweep ${sweepId}`);
  if (interrupted || detail.status === 'cancelled') {
    console.error(`loadscope: continue with: loadscope sweep --resume ${sweepId} --out ${runsDir}`);
    return 130;
  }
  return detail.completed === detail.runs ? 0 : 1;
};

export default command;
