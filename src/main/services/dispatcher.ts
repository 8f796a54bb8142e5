// The one command entry shared by both transports: (name, unknown payload) → validated with the
// contract's zod schemas → the service → CommandResult. Never throws; expected failures are CommandErrors.
import type { z } from 'zod';
import { commandSchemas, type CommandError, type CommandName, type CommandResponses, type CommandResult } from '../../shared/ipc-contract';
import { messageOf, ServiceError } from './errors';

export type CommandHandlers = {
  [C in CommandName]: (request: z.output<(typeof commandSchemas)[C]>) => Promise<CommandResponses[C]> | CommandResponses[C];
};

export type Dispatch = (command: string, payload: unknown) => Promise<CommandResult<CommandName>>;

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(commandSchemas, name);
}

export function createDispatcher(handlers: CommandHandlers, onInternalError?: (command: string, err: unknown) => void): Dispatch {
  return async (command, payload) => {
    if (!isCommandName(command)) return fail({ code: 'invalid', message: `unknown command ${JSON.stringify(String(command)).slice(0, 80)}` });
    const parsed = commandSchemas[command].safeParse(payload ?? {});
    if (!parsed.success) {
      const fieldErrors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(request)', message: i.message }));
      return fail({ code: 'invalid', message: `${command}: ${fieldErrors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, fieldErrors });
    }
    try {
      const handler = handlers[command] as (req: unknown) => Promise<unknown> | unknown;
      const value = await handler(parsed.data);
      return { ok: true, value } as CommandResult<CommandName>;
    } catch (err) {
      if (err instanceof ServiceError) return fail({ code: err.code, message: err.message, ...(err.fieldErrors ? { fieldErrors: err.fieldErrors } : {}) });
      onInternalError?.(command, err);
      return fail({ code: 'internal', message: `${command} failed: ${messageOf(err)}` });
    }
  };
}

function fail(error: CommandError): CommandResult<CommandName> {
  return { ok: false, error };
}
