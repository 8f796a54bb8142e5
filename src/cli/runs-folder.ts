// Checking a runs folder named on the command line, in bounded time: one clear line for a file, a missing
// folder, a place that cannot be written, or a pseudo file system such as /proc.
import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { CliError } from './cli-util';

/** Kernel pseudo file systems: nothing a run could be stored in (writes there hang or misbehave). */
const PSEUDO = ['/proc', '/sys', '/dev'];

/**
 * `create`: make the folder if it is missing and prove it takes a file (train); otherwise it must exist
 * (runs list/show/export). Throws a CliError naming the flag and the problem.
 */
export function checkRunsFolder(dir: string, flag: string, create: boolean): void {
  const abs = resolve(dir);
  if (PSEUDO.some((p) => abs === p || abs.startsWith(`${p}/`))) throw new CliError(`${flag}: ${abs} is on a kernel pseudo file system, not a place for runs`, 2);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`${flag}: cannot use ${abs}: ${(err as Error).message}`, 2);
    if (!create) throw new CliError(`${flag}: no runs folder at ${abs}`, 1);
    try {
      mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw new CliError(`${flag}: cannot create the runs folder ${abs}: ${(e as Error).message}`, 2);
    }
    st = statSync(abs);
  }
  if (!st.isDirectory()) throw new CliError(`${flag}: ${abs} is a file, not a folder`, 2);
  if (!create) return;
  const probe = join(abs, `.loadscope-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    accessSync(abs, constants.W_OK);
    writeFileSync(probe, '');
  } catch (err) {
    throw new CliError(`${flag}: cannot write into ${abs}: ${(err as Error).message}`, 2);
  } finally {
    rmSync(probe, { force: true });
  }
}
