// The one error type services throw for expected failures; the dispatcher turns it into a CommandError.
import type { CommandError } from '../../shared/ipc-contract';
import type { FieldError } from '../../shared/run-config';

export class ServiceError extends Error {
  constructor(
    readonly code: CommandError['code'],
    message: string,
    readonly fieldErrors?: FieldError[],
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const notFound = (what: string): ServiceError => new ServiceError('not-found', what);
export const conflict = (what: string): ServiceError => new ServiceError('conflict', what);
export const invalid = (what: string, fieldErrors?: FieldError[]): ServiceError => new ServiceError('invalid', what, fieldErrors);

/** A message for people from anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A store failure as the run's failure reason: a full or failing disk leads with what the user must fix
 * ("no space left on device"), then what was being written.
 */
export function storeFailure(err: unknown, what: string): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const lead = code === 'ENOSPC' || code === 'EDQUOT' ? 'no space left on device' : code === 'EIO' ? 'input/output error on the runs disk' : code === 'EROFS' ? 'the runs folder is read-only' : null;
  return lead ? `${lead} (while writing ${what}: ${messageOf(err)})` : `could not record the run (${what}): ${messageOf(err)}`;
}
