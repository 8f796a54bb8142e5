// Download one stored series of a run (exportSeries) as a CSV or JSON file.
import { call } from '../api/transport';
import { downloadText } from './download';

export type SeriesId = 'scalars' | 'loads' | 'eval' | 'top-tokens';

/** Resolves to an error message, or null once the download started. */
export async function exportSeries(runId: string, series: SeriesId, format: 'csv' | 'json' = 'csv'): Promise<string | null> {
  const r = await call('exportSeries', { runId, series, format });
  if (!r.ok) return r.error.message;
  downloadText(r.value.filename, r.value.mime, r.value.content);
  return null;
}
