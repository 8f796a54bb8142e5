// A run's free-text notes: notes.md in its folder (written atomically; absent = no notes).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from './fs-util';

export const NOTES_FILE = 'notes.md';
export const MAX_NOTES_CHARS = 20_000;

export function readNotes(dir: string): string {
  const path = join(dir, NOTES_FILE);
  if (!existsSync(path)) return '';
  try {
    return readFileSync(path, 'utf8').slice(0, MAX_NOTES_CHARS);
  } catch {
    // an unreadable notes file hides the notes, never the run
    return '';
  }
}

/** Empty notes remove the file. Notes live beside the writer's files, so they may change while it trains. */
export function writeNotes(dir: string, text: string): void {
  const path = join(dir, NOTES_FILE);
  if (text.trim() === '') rmSync(path, { force: true });
  else writeFileAtomicSync(path, text.endsWith('\n') ? text : `${text}\n`);
}
