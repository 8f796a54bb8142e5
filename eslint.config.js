// Lint rules and the layering map: a file's folder decides which modules it may import
// (docs/ARCHITECTURE.md has the table; tests/unit/layering.test.ts proves each rule fires).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

const NODE_BUILTINS = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'https',
  'module', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm',
  'worker_threads', 'zlib',
];
// Builtins by exact name (`paths`), so a folder of ours called util/ or path/ is not mistaken for Node's.
const nodePaths = NODE_BUILTINS.map((name) => ({ name, message: 'this layer may not use Node APIs' }));
const node = { group: ['node:*'], message: 'this layer may not use Node APIs' };
const electron = { group: ['electron', 'electron/*'], message: 'only src/main/electron and src/preload may import electron' };
const tfjs = { group: ['@tensorflow/*'], message: 'tfjs lives in src/main/engine (run it through the engine worker)' };
const ui = { group: ['vue', 'echarts', 'echarts/*'], message: 'UI libraries belong to src/renderer' };
const mainCode = { group: ['**/main/**', '**/main'], message: 'the renderer and shared code may not import src/main' };
const rendererCode = { group: ['**/renderer/**'], message: 'only the renderer imports renderer code' };
const preloadCode = { group: ['**/preload/**'], message: 'nothing imports the preload' };
const cliCode = { group: ['**/cli/**'], message: 'the CLI is an entry point, not a library' };
const serverOrServices = { group: ['**/services/**', '**/server/**', '**/store/**', '**/electron/**'], message: 'the engine may not use the run store, services or IPC' };
const engineCode = { group: ['**/engine/**', '!**/engine/worker-path*'], message: 'main talks to the engine only through its worker (src/main/engine/worker-path.ts)' };

const restrict = (...patterns) => ({
  'no-restricted-imports': ['error', { patterns, ...(patterns.includes(node) ? { paths: nodePaths } : {}) }],
});

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench/results/**', 'build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  // ---- layering (see docs/ARCHITECTURE.md) ----
  { files: ['src/shared/**'], rules: restrict(node, electron, tfjs, ui, mainCode, rendererCode, preloadCode, cliCode) },
  { files: ['src/main/engine/**'], rules: restrict(electron, ui, serverOrServices, rendererCode, preloadCode, cliCode) },
  {
    files: ['src/main/**'],
    ignores: ['src/main/engine/**', 'src/main/electron/**'],
    rules: restrict(electron, tfjs, ui, engineCode, rendererCode, preloadCode, cliCode),
  },
  { files: ['src/main/electron/**'], rules: restrict(tfjs, ui, engineCode, rendererCode, preloadCode, cliCode) },
  { files: ['src/preload/**'], rules: restrict(node, tfjs, ui, mainCode, rendererCode, cliCode) },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict(node, electron, tfjs, mainCode, preloadCode, cliCode),
  },
  { files: ['src/cli/**', 'bench/**', 'tests/**', 'scripts/**', 'bin/**'], rules: restrict(electron) },
);
