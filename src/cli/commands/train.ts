// `loadscope train`: one run headless on the same TrainingService and run store as the app, with a
// progress bar on stderr (or --json lines on stdout); Ctrl-C checkpoints and says how to resume.
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, DECIMAL, parseSetFlags, type Command } from '../cli-util';
import { checkRunsFolder } from '../runs-folder';
import { formatFieldErrors, type RunConfigInput } from '../../shared/run-config';
import type { RunSummary } from '../../shared/reports';
import type { WorkerReport } from '../../shared/worker-protocol';
import { composeServices, type Services } from '../../main/services/compose';
import { ServiceError } from '../../main/services/errors';
import { defaultRunsDir } from '../../main/services/paths';
import { ProgressLine } from '../progress-line';

const HELP = `usage: loadscope train [options]            train a new run
       loadscope train --resume RUN_DIR [--checkpoint STEP] [--steps N]   continue a run

  --preset tiny|small|paper-16e|paper-64e|custom   model shape (default tiny)
  --strategy ID          none, aux-loss, seq-aux-loss, z-loss, loss-free, bip, quantile, sinkhorn, capacity, optimal
  --set NAME=VALUE       a strategy option (repeatable), e.g. --set T=4
  --steps N              total steps (default 300; with --resume: the new total)
  --seed N  --lr X  --z-loss X  --score-fn softmax|sigmoid
  --data synthetic|corpus|FILE                     training text (default synthetic)
  --backend auto|tensorflow|webgpu|wasm|cpu  --dispatch auto|dense|sparse
  --eval-every N  --checkpoint-every N  --name TEXT
  --eval-batches N       validation batches of each periodic evaluation (default 4)
  --val-tokens N         held-out tokens of the final evaluation (default 0 = enough for a MaxVio floor < 0.01)
  --warmup N             learning-rate warm-up steps (default 20)
  --micro-batches K      gradient accumulation: K micro-batches (each --batch sequences) per optimizer step (default 1)
  --gate-norm auto|on|off  renormalise the k gate values (auto: softmax on, sigmoid off)
  --layers N --experts N --top-k N --d-model N --heads N --ctx N --batch N --expert-hidden N
                         model shape overrides (with --preset custom: on top of tiny)
  --compose-capacity CF  token dropping at ⌈CF·k·T/E⌉ per expert on top of any strategy (0 = off)
  --compose-seq-aux A    sequence-wise aux loss α on top of any strategy (DeepSeek-V3: 1e-4 with loss-free)
  --devices N  --placement 0,1,…  simulated expert-parallel layout of the cost model (default min(4, experts), round-robin)
  --out DIR, --runs DIR  the runs folder (default ${defaultRunsDir()}); the run is DIR/<run id>
  --json                 one JSON object per step on stdout, then a summary object (no bar)`;

const OPTIONS = {
  preset: { type: 'string' }, strategy: { type: 'string' }, set: { type: 'string', multiple: true }, steps: { type: 'string' },
  seed: { type: 'string' }, data: { type: 'string' }, lr: { type: 'string' }, backend: { type: 'string' }, dispatch: { type: 'string' },
  'z-loss': { type: 'string' }, 'score-fn': { type: 'string' }, 'eval-every': { type: 'string' }, 'checkpoint-every': { type: 'string' },
  name: { type: 'string' }, out: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, resume: { type: 'string' },
  checkpoint: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  'eval-batches': { type: 'string' }, 'micro-batches': { type: 'string' }, 'val-tokens': { type: 'string' }, warmup: { type: 'string' }, 'gate-norm': { type: 'string' }, 'compose-capacity': { type: 'string' }, 'compose-seq-aux': { type: 'string' },
  layers: { type: 'string' }, experts: { type: 'string' }, 'top-k': { type: 'string' }, 'd-model': { type: 'string' }, heads: { type: 'string' },
  ctx: { type: 'string' }, batch: { type: 'string' }, 'expert-hidden': { type: 'string' }, devices: { type: 'string' }, placement: { type: 'string' },
} as const;

/** model shape flag → ModelShape field */
const SHAPE_FLAGS = { layers: 'layers', experts: 'experts', 'top-k': 'topK', 'd-model': 'dModel', heads: 'heads', ctx: 'ctx', batch: 'batch', 'expert-hidden': 'expertHidden' } as const;

/** config field → the flag that sets it, so errors name what the user typed */
const FLAG_OF: Record<string, string> = {
  preset: '--preset', strategy: '--strategy', strategyOptions: '--set', steps: '--steps', seed: '--seed', lr: '--lr',
  backend: '--backend', dispatch: '--dispatch', data: '--data', zLoss: '--z-loss', scoreFn: '--score-fn', evalEvery: '--eval-every', checkpointEvery: '--checkpoint-every', name: '--name',
  evalBatches: '--eval-batches', microBatches: '--micro-batches', valTokens: '--val-tokens', warmupSteps: '--warmup', gateNorm: '--gate-norm', composeCapacity: '--compose-capacity', composeSeqAux: '--compose-seq-aux', model: '--layers/--experts/… (model)', expertParallel: '--devices/--placement',
};

/** Numbers stay numbers for the schema; anything else goes through as typed so the error shows it. */
const num = (v: string | undefined): number | string | undefined => (v === undefined ? undefined : DECIMAL.test(v) && Number.isFinite(Number(v)) ? Number(v) : v);

export function configFromFlags(v: Record<string, string | string[] | boolean | undefined>): RunConfigInput {
  const s = (k: string) => v[k] as string | undefined;
  const data = s('data');
  const raw: Record<string, unknown> = {
    name: s('name'), preset: s('preset'), strategy: s('strategy'), strategyOptions: parseSetFlags(v.set as string[] | undefined),
    steps: num(s('steps')), seed: num(s('seed')), lr: num(s('lr')), backend: s('backend'), dispatch: s('dispatch'), zLoss: num(s('z-loss')),
    scoreFn: s('score-fn'), evalEvery: num(s('eval-every')), checkpointEvery: num(s('checkpoint-every')),
    data: data === undefined ? undefined : data === 'synthetic' || data === 'corpus' ? { kind: data } : { kind: 'file', path: resolve(data) },
    evalBatches: num(s('eval-batches')), microBatches: num(s('micro-batches')), valTokens: num(s('val-tokens')), warmupSteps: num(s('warmup')), gateNorm: s('gate-norm'),
    composeCapacity: num(s('compose-capacity')), composeSeqAux: num(s('compose-seq-aux')),
  };
  const model: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(SHAPE_FLAGS)) if (s(flag) !== undefined) model[field] = num(s(flag));
  if (Object.keys(model).length) raw.model = model;
  const placement = s('placement');
  if (s('devices') !== undefined || placement !== undefined) {
    raw.expertParallel = {
      ...(s('devices') !== undefined ? { devices: num(s('devices')) } : {}),
      ...(placement !== undefined ? { placement: placement.split(',').map((x) => num(x.trim())) } : {}),
    };
  }
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  return raw as RunConfigInput;
}

function explain(err: ServiceError): string {
  if (!err.fieldErrors?.length) return err.message;
  return formatFieldErrors(err.fieldErrors.map((e) => {
    const [head, sub] = e.path.split('.');
    const shapeFlag = head === 'model' ? Object.entries(SHAPE_FLAGS).find(([, f]) => f === sub)?.[0] : undefined;
    const flag = shapeFlag ? `--${shapeFlag}` : FLAG_OF[head!];
    return { path: flag ? `${flag} (${e.path})` : e.path, message: e.message };
  }));
}

const command: Command = async (argv) => {
  let v: Record<string, string | string[] | boolean | undefined>;
  try {
    v = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new CliError(`train: ${err instanceof Error ? err.message : String(err)} (see loadscope train --help)`);
  }
  if (v.help) return console.log(HELP), 0;
  const resumeDir = v.resume as string | undefined;
  if (resumeDir) {
    const extra = Object.keys(v).filter((k) => v[k] !== undefined && !['resume', 'checkpoint', 'steps', 'json', 'out', 'runs'].includes(k));
    if (extra.length) throw new CliError(`--resume continues a run with its own config: drop --${extra.join(', --')}`);
  } else if (v.checkpoint !== undefined) throw new CliError('--checkpoint only goes with --resume RUN_DIR');
  const runsDir = resumeDir ? dirname(resolve(resumeDir)) : resolve((v.out ?? v.runs ?? defaultRunsDir()) as string);
  // a file, an unwritable place or a pseudo file system (/proc) is refused in bounded time, before training
  checkRunsFolder(runsDir, v.out !== undefined ? '--out' : v.runs !== undefined ? '--runs' : resumeDir ? '--resume' : 'runs folder', true);
  const json = v.json === true;
  const bar = json ? null : new ProgressLine(process.stderr);
  const onReport = (msg: WorkerReport) => {
    if (msg.type === 'step') {
      const r = msg.report;
      if (json) process.stdout.write(JSON.stringify({ type: 'step', step: r.step, loss: r.loss, maxVio: r.maxVio, avgMaxVio: r.avgMaxVio, supMaxVio: r.supMaxVio, ...(r.maxVioMicro === undefined ? {} : { maxVioMicro: r.maxVioMicro }), tokensPerSec: r.tokensPerSec, lr: r.lr, dropped: r.dropped, dropRate: r.dropRate, demandMaxVio: r.demandMaxVio, entropy: r.entropy, cv: r.cv, idle: r.idle, dead: r.dead }) + '\n');
      bar?.update(r);
    } else if (msg.type === 'log' && msg.level === 'warn') bar?.note(`warning: ${msg.message}`);
  };
  const services = await composeServices({ runsDir, recover: false, onReport, log: (level, m) => (level === 'warn' ? (bar ? bar.note(m) : console.error(`loadscope: ${m}`)) : undefined) });
  let runId: string;
  try {
    runId = resumeDir ? (await startResume(services, basename(resolve(resumeDir)), v)).runId : (await services.training.start(configFromFlags(v))).runId;
  } catch (err) {
    await services.dispose();
    if (err instanceof ServiceError) throw new CliError(explain(err), err.code === 'invalid' ? 2 : 1);
    throw err;
  }
  const runDir = resolve(runsDir, runId);
  const reader0 = await services.store.open(runId);
  const total = reader0.config.steps;
  reader0.close();
  bar?.start(total);
  if (!json) console.error(`loadscope: run ${runId} → ${runDir}`);

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // second Ctrl-C: give up waiting
    interrupted = true;
    bar?.note('interrupted: writing a checkpoint… (Ctrl-C again to quit without one)');
    void services.dispose();
  };
  process.on('SIGINT', onSigint);
  const status = await services.training.waitFor(runId);
  process.off('SIGINT', onSigint);
  bar?.finish();
  await services.dispose();

  const reader = await services.store.open(runId);
  const summary: RunSummary | null = reader.meta.summary;
  const checkpoints = reader.listCheckpoints().map((c) => c.step);
  // the service knows the reason even when a full disk kept it out of meta.json
  const failure = status === 'failed' ? (services.training.failureOf(runId) ?? reader.meta.failure) : reader.meta.failure;
  // a webgpu run names its adapter (vendor, architecture, software or hardware)
  const adapter = reader.meta.backend?.adapter;
  reader.close();
  if (json) process.stdout.write(JSON.stringify({ type: 'summary', runId, runDir, status, ...(summary ?? {}), ...(adapter ? { adapter } : {}), ...(failure ? { failure } : {}) }) + '\n');
  else if (summary) console.error(`loadscope: ${status}: ${summary.steps} steps, loss ${summary.finalLoss.toFixed(4)}, AvgMaxVio ${summary.avgMaxVio.toFixed(3)}, SupMaxVio ${summary.supMaxVio.toFixed(3)}${dropNote(summary)}, ${Math.round(summary.tokensPerSecMedian)} tokens/s (${summary.backend})`);
  if (status === 'failed') {
    console.error(`loadscope: run failed: ${failure ?? 'unknown reason'}`);
    return 1;
  }
  if (interrupted || status === 'stopped') {
    const last = checkpoints.length ? Math.max(...checkpoints) : null;
    console.error(last === null
      ? `loadscope: stopped without a checkpoint (run folder ${runDir})`
      : `loadscope: stopped; checkpoint at step ${last} in ${runDir}\n  resume with: loadscope train --resume ${runDir} --steps ${total}`);
    return 130;
  }
  return 0;
};

/** A run that drops tokens has a routed MaxVio that flatters it: say so beside it, with the demanded figure. */
function dropNote(s: RunSummary): string {
  if (!s.dropRate) return '';
  return `, DROPS TOKENS: ${(100 * s.dropRate).toFixed(1)}% of slots dropped, demanded AvgMaxVio ${(s.demandAvgMaxVio ?? NaN).toFixed(3)}`;
}

async function startResume(services: Services, runId: string, v: Record<string, unknown>): Promise<{ runId: string }> {
  const reader = await services.store.open(runId).catch(() => {
    throw new CliError(`--resume: no run folder at ${resolve(v.resume as string)}`);
  });
  const steps = reader.listCheckpoints().map((c) => c.step);
  const committed = reader.lastStep;
  reader.close();
  // the newest checkpoint whose step is committed in steps.jsonl (a torn last line uncommits a step);
  // none at all (killed before its first checkpoint): start over from step 0
  const usable = steps.filter((s) => s <= committed);
  let step = usable.length ? Math.max(...usable) : 0;
  if (v.checkpoint !== undefined) {
    step = Number(v.checkpoint);
    if (!steps.includes(step)) throw new CliError(`--checkpoint: run ${runId} has checkpoints at steps ${steps.join(', ')}, not "${v.checkpoint as string}"`);
  }
  const total = v.steps === undefined ? undefined : DECIMAL.test(v.steps as string) ? Number(v.steps) : NaN;
  if (total !== undefined && (!Number.isInteger(total) || total <= step)) throw new CliError(`--steps (steps): with --resume it is the new total and must be an integer above the checkpoint step ${step}, got "${v.steps as string}"`);
  return services.training.resumeFromCheckpoint(runId, step, total);
}

export default command;
