// `loadscope import`: turn loads logged elsewhere (Megatron router trace, .npy, CSV) into an external run.
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { RunStore } from '../../main/store/run-store';
import { ExternalRunWriter, isValidRunId } from '../../main/store/external-writer';
import { parseNpy } from '../npy';
import { CliError, type Command } from '../cli-util';
import { parseLoadsCsv, parseRouterTrace, type ImportedLoads } from '../import-parsers';

const USAGE = `usage: loadscope import FILE [options]

  FILE                  a Megatron router trace (.jsonl: {"step", "layer", "indices": [[e, …] per token]} per line),
                        or loads [steps × layers × experts] as .npy (float32/float64) or .csv
                        (header step,layer,e0,e1,…; one row per step and layer, as \`runs export --series loads\`)
options:
  --id ID               run id (folder name; default: the file name)
  --name NAME           display name (default: the id)
  --experts E           number of experts (traces: default 1 + the largest index seen)
  --top-k K             slots per token (traces: from the indices; .npy/.csv: required)
  --tokens-per-step T   tokens of one optimizer step (all micro-batches, all ranks): gives the ideal load k·T/E
  --first-step S        step number of the first .npy row (default 1)
  --counted before-drop|after-drop   whether the loads were counted before capacity dropping (default before-drop)
  --runs DIR            runs folder (default: $LOADSCOPE_RUNS_DIR or ~/.loadscope/runs)`;

const intFlag = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`import: --${name} must be a whole number, got "${v}"`);
  return n;
};

const command: Command = async (argv) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        id: { type: 'string' },
        name: { type: 'string' },
        experts: { type: 'string' },
        'top-k': { type: 'string' },
        'tokens-per-step': { type: 'string' },
        'first-step': { type: 'string' },
        counted: { type: 'string', default: 'before-drop' },
        runs: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError(`import: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`import: expected one file\n\n${USAGE}`);
  const file = positionals[0]!;
  const counted = values.counted;
  if (counted !== 'before-drop' && counted !== 'after-drop') throw new CliError(`import: --counted must be before-drop or after-drop, got "${counted}"`);
  const experts = intFlag(values.experts, 'experts');
  const topK = intFlag(values['top-k'], 'top-k');
  const tokensPerStep = intFlag(values['tokens-per-step'], 'tokens-per-step') ?? 0;
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new CliError(`import: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const ext = extname(file).toLowerCase();
  let data: ImportedLoads;
  try {
    if (ext === '.jsonl' || ext === '.json') data = parseRouterTrace(buf.toString('utf8'), experts);
    else if (ext === '.npy') data = fromNpy(buf, intFlag(values['first-step'], 'first-step') ?? 1);
    else if (ext === '.csv') data = parseLoadsCsv(buf.toString('utf8'));
    else throw new Error(`unknown file type "${ext || basename(file)}": expected .jsonl (router trace), .npy or .csv`);
  } catch (err) {
    throw new CliError(`import: ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (experts !== undefined && experts !== data.experts && data.kind !== 'trace') throw new CliError(`import: --experts ${experts} but ${file} holds ${data.experts} experts`);
  const k = topK ?? data.topK;
  if (!k) throw new CliError('import: --top-k is required for .npy and .csv loads (slots per token)');
  const id = values.id ?? basename(file, extname(file)).replace(/[^A-Za-z0-9._-]/g, '-');
  if (!isValidRunId(id)) throw new CliError(`import: "${id}" is not a run id (letters, digits, . _ -)`);
  const store = new RunStore(values.runs ?? RunStore.defaultRoot());
  let w: ExternalRunWriter;
  try {
    w = new ExternalRunWriter(join(store.root, id), { layers: data.layers, experts: data.experts, topK: k, tokensPerStep, name: values.name ?? id, framework: data.kind === 'trace' ? 'megatron' : 'import', counted });
  } catch (err) {
    throw new CliError(`import: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const [step, loads] of data.rows) w.append(step, loads);
  w.close();
  console.log(`imported ${data.rows.length} steps (${data.layers} layers × ${data.experts} experts, top-${k}) from ${file} as run ${id} in ${store.root}`);
  return 0;
};
export default command;

function fromNpy(buf: Buffer, firstStep: number): ImportedLoads {
  const a = parseNpy(buf);
  if (a.shape.length !== 3) throw new Error(`expected loads of shape [steps, layers, experts], got [${a.shape.join(', ')}]`);
  const [S, L, E] = a.shape as [number, number, number];
  const rows: Array<[number, Float32Array]> = [];
  for (let s = 0; s < S; s++) rows.push([firstStep + s, Float32Array.from(a.data.subarray(s * L * E, (s + 1) * L * E))]);
  return { kind: 'loads', layers: L, experts: E, topK: 0, rows };
}
