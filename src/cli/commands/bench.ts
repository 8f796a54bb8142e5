// `loadscope bench` (not implemented yet).
import { CliError, type Command } from '../cli-util';

const command: Command = async () => {
  throw new CliError('bench: not implemented yet', 1);
};
export default command;
