/**
 * Three workers started together with a rotation schedule that is due: exactly one run.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { Fixture } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

describe.skipIf(typeof Deno !== 'undefined')('scheduled rotation', () => {
  const fixture = new Fixture({
    databases: ['sqlite'],
    kek: {
      name: 'pii',
      provider: 'local',
      settings: { path: 'keyring.json' },
      schedule: { every: '1h' },
    },
  });
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await fixture.cleanup();
  });

  it('creates exactly one run when three workers start together with a due schedule', async () => {
    const provider = await fixture.provider();
    await fixture.seed('lite', 1_500, provider);
    const before = await provider.describe('pii');
    const control = await fixture.control();

    for (let i = 0; i < 3; i++) workers.push(spawnRekey(fixture.configPath));
    const run = await waitFor(
      'the scheduled run to finish',
      async () => {
        const [r] = await control.listRuns({ kekName: 'pii' });
        return r?.phase === 'completed' || r?.phase === 'failed' ? r : undefined;
      },
      60_000,
      100,
    );
    // Several leader ticks later there is still one run, and the KEK rotated once.
    await new Promise((r) => setTimeout(r, 3_000));
    const runs = await control.listRuns({ kekName: 'pii' });
    expect(runs).toHaveLength(1);
    expect(run.phase).toBe('completed');
    expect(run.trigger).toMatch(/^schedule:/);
    const fresh = await fixture.provider();
    expect(await fresh.describe('pii')).toHaveLength(before.length + 1);
    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs.match(/"event":"run\.started"/g)).toHaveLength(1);
    for (const w of workers) w.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
    await control.close();
    await provider.close?.();
    await fresh.close?.();
  }, 120_000);
});
