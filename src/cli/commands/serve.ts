// `loadscope serve [--port N] [--host 127.0.0.1] [--runs DIR]`: the app in a browser, same services over
// a WebSocket, loopback only unless told otherwise. Ctrl-C checkpoints running runs and exits.
import { parseArgs } from 'node:util';
import { CliError, type Command } from '../cli-util';
import { startServer } from '../../main/server/server';
import { RendererNotBuiltError } from '../../main/server/static-files';
import { defaultRunsDir } from '../../main/services/paths';

const HELP = `usage: loadscope serve [--port N] [--host ADDR] [--runs DIR]

Serves the Loadscope app to a browser and the training services over a WebSocket (/ws).
  --port N      port to listen on (default 5177; 0 picks a free one)
  --host ADDR   address to bind (default 127.0.0.1; anything else exposes the app to your network)
  --runs DIR    runs folder (default ${defaultRunsDir()}, or $LOADSCOPE_RUNS_DIR)

Open the printed address: it carries a one-session access token. From another machine, forward the
port through SSH (ssh -L 5177:127.0.0.1:5177 host) rather than binding a public address.`;

const command: Command = async (argv) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    throw new CliError(`serve: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = values.port === undefined ? 5177 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port: expected an integer in [0, 65535], got "${values.port}"`);
  const host = values.host ?? '127.0.0.1';
  let server;
  try {
    server = await startServer({ port, host, runsDir: values.runs ?? defaultRunsDir() });
  } catch (err) {
    if (err instanceof RendererNotBuiltError) throw new CliError(err.message, 1);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use: pick another with --port (0 = any free port)`, 1);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`--host: cannot bind ${host} on this machine`, 1);
    throw err;
  }
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    console.error(`loadscope: warning: listening on ${host}: anyone who can reach this address and has the token can train and read runs`);
  }
  console.log(`Loadscope is serving at ${server.url}`);
  console.log(`runs folder: ${server.services.runsDir}  (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const quit = () => {
      process.off('SIGINT', quit);
      process.off('SIGTERM', quit);
      console.error('\nloadscope: stopping: checkpointing running runs…');
      void server.close().then(resolve, (err: unknown) => {
        console.error(`loadscope: ${err instanceof Error ? err.message : String(err)}`);
        resolve();
      });
    };
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  });
  return 0;
};
export default command;
