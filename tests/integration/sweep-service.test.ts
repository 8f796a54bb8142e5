// SweepService in process on the real engine (tiny preset): cancel stops the whole sweep, resume continues
// the stopped run from its checkpoint (same run) and starts the never-started one; the IPC commands validate;
// run notes and facets (hyper-parameters, parent) round-trip.
import { afterEach, describe, expect, it } from 'vitest';
import { composeServices, type Services } from '../../src/main/services/compose';
import { tempRunsDir, until } from './fixtures/service-helpers';
import { resolveRunConfig } from '../../src/shared/run-config';
import type { RunFacets } from '../../src/shared/run-facets';

let services: Services | null = null;
let cleanup: (() => void) | null = null;
afterEach(async () => {
  await services?.dispose();
  services = null;
  cleanup?.();
});

const base = { preset: 'tiny', steps: 12, evalEvery: 0, evalBatches: 1, checkpointEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'wasm' } as const;

describe('SweepService', () => {
  it('cancel stops every run; resume continues the stopped one from its checkpoint and starts the missing one', async () => {
    const tmp = tempRunsDir();
    cleanup = tmp.cleanup;
    services = await composeServices({ runsDir: tmp.dir, log: () => undefined });
    services.settings.update({ maxConcurrentRuns: 1 });
    const s = services;
    const { sweepId, runIds } = await s.sweeps.start({ name: 'svc', base, strategies: ['bip'], options: { T: [4] }, seeds: [1, 2] });
    expect(runIds).toHaveLength(2);
    // the first run trains, the second waits for the slot
    await until('first run training', () => s.training.statusOf(runIds[0]!) === 'running', 120_000);
    await until('a step on disk', () => s.sweeps.get(sweepId).rows[0]!.steps >= 1, 120_000);
    expect(await s.sweeps.cancel(sweepId)).toEqual({ stopped: 2 });
    await Promise.all(runIds.map((id) => s.training.waitFor(id))); // the queued one ended at once
    const cancelled = s.sweeps.get(sweepId);
    expect(cancelled.rows.map((r) => r.status)).toEqual(['stopped', 'stopped']);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.completed).toBe(0);

    const resumed = await s.sweeps.resume(sweepId);
    expect(resumed.runIds).toHaveLength(2);
    expect(resumed.runIds[0]).toBe(runIds[0]); // continued from its stop checkpoint, same run folder
    await s.sweeps.waitFor(sweepId);
    const done = s.sweeps.get(sweepId);
    expect(done.status).toBe('done');
    expect(done.rows.map((r) => [r.status, r.steps])).toEqual([['completed', 12], ['completed', 12]]);
    for (const r of done.rows) {
      expect(r.avgMaxVio).toEqual(expect.any(Number));
      expect(r.tokensPerSec).toBeGreaterThan(0);
      expect(r.dropRate).toBe(0); // bip drops nothing
    }
    expect(s.sweeps.list().map((x) => [x.sweepId, x.completed])).toEqual([[sweepId, 2]]);
  }, 300_000);

  it('the IPC commands validate their payloads', async () => {
    const tmp = tempRunsDir();
    cleanup = tmp.cleanup;
    services = await composeServices({ runsDir: tmp.dir, log: () => undefined });
    const bad = await services.dispatch('startSweep', { spec: { strategies: [], seeds: [1] } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('invalid');
    const noOpt = await services.dispatch('startSweep', { spec: { strategies: ['loss-free'], options: { T: [2] }, seeds: [1] } });
    expect(noOpt.ok).toBe(false);
    if (!noOpt.ok) expect(noOpt.error.message).toMatch(/has an option "T"/);
    const id = await services.dispatch('getSweep', { sweepId: '../etc' });
    expect(id.ok).toBe(false);
    const missing = await services.dispatch('getSweep', { sweepId: 'sweep-20200101-000000-abcdef' });
    expect(missing.ok === false && missing.error.code).toBe('not-found');
    expect(await services.dispatch('listSweeps', {})).toEqual({ ok: true, value: [] });
    // notes: validated (id, length), refused for a run that does not exist
    expect((await services.dispatch('setRunNotes', { runId: '../x', notes: 'a' })).ok).toBe(false);
    const long = await services.dispatch('setRunNotes', { runId: 'r1', notes: 'x'.repeat(20_001) });
    expect(!long.ok && long.error.message).toMatch(/20,000 characters/);
    const none = await services.dispatch('setRunNotes', { runId: 'no-such-run', notes: 'a' });
    expect(!none.ok && none.error.code).toBe('not-found');
    const cfg = resolveRunConfig({ preset: 'tiny', strategy: 'bip', strategyOptions: { T: 8 }, seed: 7 });
    if (!cfg.ok) throw new Error('config');
    const w = await services.store.create(cfg.config, { name: 'child', parent: { runId: 'parent-run', step: 5 } });
    await w.close();
    expect(await services.dispatch('setRunNotes', { runId: w.runId, notes: 'first line\nsecond' })).toEqual({ ok: true, value: { ok: true } });
    const f = await services.dispatch('listRunFacets', {});
    if (!f.ok) throw new Error(f.error.message);
    const list = f.value as RunFacets[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ runId: w.runId, notes: 'first line\nsecond\n', parent: { runId: 'parent-run', step: 5 }, sweep: null });
    expect(list[0]!.params).toMatchObject({ seed: 7, strategy: 'bip', 'option.T': 8, 'model.experts': 8, preset: 'tiny' });
    await services.dispatch('setRunNotes', { runId: w.runId, notes: '  ' });
    const cleared = await services.dispatch('listRunFacets', {});
    expect(cleared.ok && (cleared.value as RunFacets[])[0]!.notes).toBe('');
  });
});
