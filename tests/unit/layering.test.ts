// Proves the layering map in eslint.config.js: each forbidden import is reported, each allowed one is not.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering rules', () => {
  it.each([
    ['src/shared/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
    ['src/shared/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"],
    ['src/shared/x.ts', "import fs from 'fs';\nexport const r = fs;\n"],
    ['src/shared/x.ts', "import * as tf from '@tensorflow/tfjs-core';\nexport const t = tf;\n"],
    ['src/renderer/src/x.ts', "import { TrainingService } from '../../main/services/training-service';\nexport const s = TrainingService;\n"],
    ['src/renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;\n"],
    ['src/main/services/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
    ['src/main/services/x.ts', "import * as tf from '@tensorflow/tfjs-core';\nexport const t = tf;\n"],
    ['src/main/services/x.ts', "import { Model } from '../engine/model';\nexport const m = Model;\n"],
    ['src/main/engine/x.ts', "import { RunStore } from '../store/run-store';\nexport const r = RunStore;\n"],
    ['src/preload/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"],
  ])('%s: rejects %s', async (file, code) => {
    expect(await restrictedImports(file, code)).not.toHaveLength(0);
  });

  it.each([
    ['src/renderer/src/x.ts', "import { STRATEGIES } from '../../shared/strategy-descriptors';\nexport const s = STRATEGIES;\n"],
    ['src/main/engine/x.ts', "import * as tf from '@tensorflow/tfjs-core';\nexport const t = tf;\n"],
    ['src/main/electron/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
    ['src/main/services/x.ts', "import { engineWorkerPath } from '../engine/worker-path';\nexport const w = engineWorkerPath;\n"],
  ])('%s: allows %s', async (file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });
});
