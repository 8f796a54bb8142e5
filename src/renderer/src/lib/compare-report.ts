// Compare's table as CSV and Markdown, and the one-click report (table CSV + Markdown + an SVG per chart).
import type { ChartOption } from '../charts/echarts';
import { chartSvg } from '../charts/export-chart';
import { downloadText, safeName } from './download';

export interface ReportRow {
  runId: string;
  name: string;
  strategy: string;
  steps: number | null;
  avgMaxVio: number | null;
  supMaxVio: number | null;
  perplexity: number | null;
  wallMs: number | null;
  tokensPerSec: number | null;
}

const COLUMNS: Array<[keyof ReportRow, string]> = [
  ['runId', 'run id'], ['name', 'name'], ['strategy', 'strategy'], ['steps', 'steps'], ['avgMaxVio', 'AvgMaxVio'],
  ['supMaxVio', 'SupMaxVio'], ['perplexity', 'final perplexity'], ['wallMs', 'time (ms)'], ['tokensPerSec', 'tokens/s'],
];

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function tableCsv(rows: ReportRow[]): string {
  return [COLUMNS.map((c) => c[1]).join(','), ...rows.map((r) => COLUMNS.map(([k]) => csvCell(r[k])).join(','))].join('\n') + '\n';
}

export function tableMarkdown(rows: ReportRow[]): string {
  const fmt = (v: unknown) => (v === null || v === undefined ? '–' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v).replace(/\|/g, '\\|'));
  return [
    `| ${COLUMNS.map((c) => c[1]).join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${COLUMNS.map(([k]) => fmt(r[k])).join(' | ')} |`),
  ].join('\n') + '\n';
}

/** Download the report: table.csv, report.md (table + chart list) and one SVG per chart. */
export function downloadReport(stem: string, rows: ReportRow[], charts: Array<{ title: string; option: ChartOption | null }>, dark: boolean): void {
  const s = safeName(stem);
  downloadText(`${s}-table.csv`, 'text/csv', tableCsv(rows));
  const svgs = charts.filter((c) => c.option).map((c) => ({ file: `${s}-${safeName(c.title)}.svg`, ...c }));
  const md = [`# ${stem}`, '', tableMarkdown(rows), ...svgs.map((c) => `![${c.title}](${c.file})\n`)].join('\n');
  downloadText(`${s}-report.md`, 'text/markdown', md);
  for (const c of svgs) downloadText(c.file, 'image/svg+xml', chartSvg(c.option!, c.title, null, 900, 420, dark));
}
