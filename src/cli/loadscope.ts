// The `loadscope` command line: dispatches to one file per subcommand in ./commands.
import { readFileSync } from 'node:fs';
import { CliError, type Command } from './cli-util';

// `runs export | head`: the reader went away; that is the end of the output, not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

/** The package version: package.json two folders up from both src/cli and out/main. */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  train: { summary: 'train a small MoE model headless (progress bar or --json)', load: () => import('./commands/train') },
  sweep: { summary: 'a grid of runs over strategies, option values and seeds (resumable)', load: () => import('./commands/sweep') },
  route: { summary: 'route one batch (or a sequence) of gate scores from .npy/JSON with a strategy', load: () => import('./commands/route') },
  runs: { summary: 'list, show, export, rename or delete saved runs', load: () => import('./commands/runs') },
  import: { summary: 'import loads logged elsewhere (Megatron router trace, .npy, .csv) as a run', load: () => import('./commands/import') },
  serve: { summary: 'serve the app to a browser (same services, WebSocket transport)', load: () => import('./commands/serve') },
  bench: { summary: 'run the benchmarks (same as npm run bench)', load: () => import('./commands/bench') },
};

function usage(): string {
  const lines = ['usage: loadscope <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push('', 'Run `loadscope <command> --help` for its options.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`loadscope ${version()}`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`loadscope: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = (await entry.load()).default;
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Expected failures (bad flags, bad files) are one clear line; anything else keeps its stack for bug reports.
    if (err instanceof CliError) console.error(`loadscope: ${err.message}`);
    else console.error(`loadscope: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  },
);
