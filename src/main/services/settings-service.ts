// App settings: a small JSON file beside the runs folder (<runs>/../settings.json), validated on read;
// a damaged or missing file falls back to defaults (with a warning), never to a crash.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { invalid, messageOf } from './errors';

/** One run per core, leaving one core for the window and the rest of the machine. */
export const defaultMaxConcurrentRuns = (): number => Math.max(1, availableParallelism() - 1);

export const SettingsSchema = z.object({
  maxConcurrentRuns: z.number().int().min(1).max(64),
});
export type Settings = z.infer<typeof SettingsSchema>;

export class SettingsService {
  readonly file: string;
  private current: Settings;
  readonly warnings: string[] = [];

  constructor(runsDir: string) {
    this.file = join(dirname(runsDir), 'settings.json');
    this.current = this.read();
  }

  get(): Settings {
    return { ...this.current };
  }

  update(patch: unknown): Settings {
    const parsed = SettingsSchema.partial().safeParse(patch);
    if (!parsed.success) {
      const fieldErrors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(settings)', message: i.message }));
      throw invalid(`invalid settings: ${fieldErrors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, fieldErrors);
    }
    this.current = { ...this.current, ...parsed.data };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.current, null, 2) + '\n');
    renameSync(tmp, this.file);
    return this.get();
  }

  private read(): Settings {
    const defaults: Settings = { maxConcurrentRuns: defaultMaxConcurrentRuns() };
    let raw: string;
    try {
      raw = readFileSync(this.file, 'utf8');
    } catch {
      return defaults;
    }
    try {
      const parsed = SettingsSchema.partial().safeParse(JSON.parse(raw));
      if (parsed.success) return { ...defaults, ...parsed.data };
      this.warnings.push(`${this.file}: ignored (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    } catch (err) {
      this.warnings.push(`${this.file}: not JSON, using defaults (${messageOf(err)})`);
    }
    return defaults;
  }
}
