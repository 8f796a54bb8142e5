// Prints one closing line for the whole test run from the vitest and Playwright JSON reports:
// "Tests: N passed, N failed, N skipped" (skips are listed with their reasons above it).
import { existsSync, readFileSync } from 'node:fs';

let passed = 0, failed = 0, skipped = 0;
const skips = [];
if (existsSync('test-results/vitest.json')) {
  const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
  passed += v.numPassedTests; failed += v.numFailedTests; skipped += v.numPendingTests + (v.numTodoTests ?? 0);
  for (const f of v.testResults ?? []) for (const t of f.assertionResults ?? []) if (t.status === 'skipped' || t.status === 'pending') skips.push(t.fullName);
}
if (existsSync('test-results/playwright.json')) {
  const p = JSON.parse(readFileSync('test-results/playwright.json', 'utf8'));
  passed += p.stats.expected + (p.stats.flaky ?? 0); failed += p.stats.unexpected; skipped += p.stats.skipped;
  const walk = (s) => { for (const spec of s.specs ?? []) for (const t of spec.tests ?? []) if (t.status === 'skipped') skips.push(`${spec.title}: ${(t.annotations ?? []).map((a) => a.description).join('; ')}`); for (const c of s.suites ?? []) walk(c); };
  for (const s of p.suites ?? []) walk(s);
}
for (const s of skips) console.log(`skipped: ${s}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
