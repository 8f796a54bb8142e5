#!/usr/bin/env node
// Runs the Python package's unittest suite (python/tests) with a Python that has torch: $LOADSCOPE_PYTHON,
// else Debian's /usr/bin/python3 (python3-torch), else python3 on PATH. Without torch the torch tests skip
// and say why; without numpy the suite cannot run and this fails with one line saying so.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const has = (py, mod) => spawnSync(py, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
const candidates = [process.env.LOADSCOPE_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
const python = candidates.find((p) => has(p, 'torch')) ?? candidates.find((p) => has(p, 'numpy'));
if (!python) {
  console.error(`test-python: no Python with numpy among ${candidates.join(', ')}; run scripts/setup.sh (apt-get install python3-numpy python3-torch)`);
  process.exit(1);
}
if (!has(python, 'torch')) console.warn(`test-python: ${python} has no torch: the torch tests will skip (apt-get install python3-torch)`);
const r = spawnSync(python, ['-W', 'ignore::ResourceWarning', '-m', 'unittest', 'discover', '-s', join(root, 'python', 'tests'), '-v'], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
