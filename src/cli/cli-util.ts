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
    out[v.slice(0, eq).trim()] = v.slice(eq + 1).trim();
  }
  return out;
}
