// `loadscope route` (not implemented yet).
import { CliError, type Command } from '../cli-util';

const command: Command = async () => {
  throw new CliError('route: not implemented yet', 1);
};
export default command;
