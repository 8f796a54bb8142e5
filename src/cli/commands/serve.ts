// `loadscope serve` (not implemented yet).
import { CliError, type Command } from '../cli-util';

const command: Command = async () => {
  throw new CliError('serve: not implemented yet', 1);
};
export default command;
