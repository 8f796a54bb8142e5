// Export of one series of a run as CSV or JSON text, produced in chunks (a long run's loads are large).
import { join } from 'node:path';
import { FILES } from './format';
import { JsonlFile } from './jsonl';
import type { LoadsFile } from './loads-file';

export type ExportSeries = 'scalars' | 'loads' | 'eval' | 'top-tokens';

export interface ExportSource {
  dir: string;
  loads: LoadsFile | null;
  layers: number;
  experts: number;
  idealLoad: number;
  lastStep: number;
}

const SCALAR_FIELDS = ['step', 'loss', 'auxLoss', 'lr', 'gradNorm', 'tokens', 'tokensPerSec', 'maxVio', 'avgMaxVio', 'supMaxVio', 'supMaxVioLayer', 'dropped', 'dropRate', 'avgDropRate', 'demandMaxVio', 'demandAvgMaxVio', 'demandSupMaxVio', 'maxVioMicro', 'avgMaxVioMicro', 'supMaxVioMicro', 'entropy', 'cv', 'idle', 'dead', 'objectiveRatio', 'elapsedMs'];
const TIMING_FIELDS = ['forwardBackwardMs', 'optimizerMs', 'routingMs', 'totalMs'];
const EVAL_FIELDS = ['step', 'valLoss', 'valPerplexity', 'valMaxVio'];

const cell = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? String(x) : '');
/** a byte (Loadscope's runs) or an external trainer's BPE string, quoted as CSV wants */
const tokenCell = (t: unknown): string => (typeof t === 'string' ? `"${t.replace(/"/g, '""')}"` : cell(t));
const range = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export function* exportChunks(src: ExportSource, series: ExportSeries, format: 'csv' | 'json'): Generator<string> {
  if (series === 'loads') {
    yield* exportLoads(src, format);
    return;
  }
  const file = series === 'scalars' ? FILES.steps : series === 'eval' ? FILES.eval : FILES.topTokens;
  const toCsv = series === 'scalars' ? scalarRow(src.layers) : series === 'eval' ? evalRow(src.layers) : topTokensRows;
  if (format === 'csv') {
    yield (series === 'scalars'
      ? [...SCALAR_FIELDS, ...TIMING_FIELDS, ...range(src.layers, 'maxVio_l')]
      : series === 'eval'
        ? [...EVAL_FIELDS, ...range(src.layers, 'valMaxVio_l')]
        : ['step', 'layer', 'expert', 'rank', 'byte', 'count']
    ).join(',') + '\n';
  } else yield '[';
  let first = true;
  const jf = new JsonlFile(join(src.dir, file), file);
  try {
    const maxStep = series === 'scalars' ? src.lastStep : Infinity;
    for (;;) {
      const out: string[] = [];
      const more = jf.readChunk((rec) => {
        if (format === 'csv') out.push(toCsv(rec));
        else {
          out.push((first ? '\n' : ',\n') + JSON.stringify(rec));
          first = false;
        }
      }, true, maxStep);
      if (out.length) yield out.join('');
      if (!more) break;
    }
  } finally {
    jf.close();
  }
  if (format === 'json') yield '\n]\n';
}

const scalarRow =
  (layers: number) =>
  (r: Record<string, unknown>): string => {
    const timing = (r.timing ?? {}) as Record<string, unknown>;
    const vio = Array.isArray(r.maxVioL) ? (r.maxVioL as unknown[]) : [];
    return [...SCALAR_FIELDS.map((f) => cell(r[f])), ...TIMING_FIELDS.map((f) => cell(timing[f])), ...Array.from({ length: layers }, (_, i) => cell(vio[i]))].join(',') + '\n';
  };

const evalRow =
  (layers: number) =>
  (r: Record<string, unknown>): string => {
    const vio = Array.isArray(r.valMaxVioL) ? (r.valMaxVioL as unknown[]) : [];
    return [...EVAL_FIELDS.map((f) => cell(r[f])), ...Array.from({ length: layers }, (_, i) => cell(vio[i]))].join(',') + '\n';
  };

function topTokensRows(r: Record<string, unknown>): string {
  const lines: string[] = [];
  const tokens = Array.isArray(r.tokens) ? (r.tokens as unknown[][][]) : [];
  tokens.forEach((experts, l) =>
    (experts ?? []).forEach((pairs, e) =>
      ((pairs ?? []) as Array<[number | string, number]>).forEach(([token, count], rank) => lines.push(`${cell(r.step)},${l},${e},${rank},${tokenCell(token)},${cell(count)}\n`)),
    ),
  );
  return lines.join('');
}

function* exportLoads(src: ExportSource, format: 'csv' | 'json'): Generator<string> {
  const { loads, layers, experts } = src;
  if (format === 'csv') yield ['step', 'layer', ...range(experts, 'e')].join(',') + '\n';
  else yield `{"layers":${layers},"experts":${experts},"idealLoad":${cell(src.idealLoad) || 'null'},"rows":[`;
  const rows = loads?.rows ?? 0;
  const per = 256;
  for (let a = 0; a < rows; a += per) {
    const out: string[] = [];
    for (let r = a; r < Math.min(rows, a + per); r++) {
      const { step, loadsLE } = loads!.readRow(r);
      if (format === 'csv') {
        for (let l = 0; l < layers; l++) out.push(`${step},${l},${Array.from(loadsLE.subarray(l * experts, (l + 1) * experts), cell).join(',')}\n`);
      } else out.push(`${r === 0 ? '\n' : ',\n'}{"step":${step},"loadsLE":[${Array.from(loadsLE, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',')}]}`);
    }
    yield out.join('');
  }
  if (format === 'json') yield '\n]}\n';
}
