// Plain lists of command and event names: the preload builds its named functions from these without
// bundling zod (ipc-contract.ts checks at compile time that they match the schemas).
export const COMMAND_NAMES = [
  'getSystemInfo', 'startRun', 'pauseRun', 'resumeRun', 'stopRun', 'checkpointRun', 'listRuns', 'getRun',
  'renameRun', 'tagRun', 'deleteRun', 'getScalars', 'getHeatmap', 'getLoadsAt', 'getExpert', 'listCheckpoints',
  'resumeFromCheckpoint', 'branchRun', 'exportSeries', 'inspectDataFile',
  'startSweep', 'resumeSweep', 'cancelSweep', 'listSweeps', 'getSweep', 'listRunFacets', 'setRunNotes',
] as const;
export const EVENT_NAMES = ['run:frame', 'run:status', 'runs:changed'] as const;
/** Electron IPC channel of a command or event */
export const channelOf = (name: string): string => `loadscope:${name}`;
