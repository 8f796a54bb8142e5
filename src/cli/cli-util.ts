// Shared helpers of the CLI commands: the command signature and the one error type that prints as one line.

/** A subcommand: gets its own argv (after the command name), returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;

/** An expected failure (bad flag, bad file): printed as one line "loadscope: <message>", no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Parse repeated `--set name=value` flags into an object (values stay strings; descriptors convert). */
export function parseSetFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new CliError(`--set expects name=value, got "${v}"`);
    const name = v.slice(0, eq).trim();
    // option names are identifiers; "__proto__" and friends would reach the object's prototype
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || name === 'constructor' || name === 'prototype') throw new CliError(`--set: "${name}" is not an option name (letters, digits, _)`);
    out[name] = v.slice(eq + 1).trim();
  }
  return out;
}

/** Plain decimal numbers only ("0x10", "1_000", " 5" are not numbers on a command line). */
export const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** Errors from the file system (they carry an errno code): worth one line, not a stack trace. */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}
