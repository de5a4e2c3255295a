/**
 * SIGTERM mid-run: the worker stops taking jobs, releases its running batch at the next page
 * boundary (before the shutdown deadline), exits 0, and another worker finishes the run.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { Fixture } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = 5_000;

describe.skipIf(typeof Deno !== 'undefined')('a worker receiving SIGTERM mid-run', () => {
  const fixture = new Fixture({
    databases: ['postgres'],
    kek: {
      name: 'pii',
      provider: 'local',
      settings: { path: 'keyring.json' },
      requestsPerSecond: 3_000,
    },
    limits: { batchSize: 5_000, shutdownDeadline: '20s' },
  });
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await fixture.cleanup();
  });

  it('releases its batch, exits 0, and a second worker completes the run', async () => {
    const provider = await fixture.provider();
    await fixture.seed('pg', COUNT, provider);
    const control = await fixture.control();
    const first = spawnRekey(fixture.configPath);
    workers.push(first);
    const rotate = await fixture.cli(['rotate', 'pii', '--json']);
    const runId = JSON.parse(rotate.stdout).runId as string;
    const handled = async (): Promise<number> =>
      (await control.getProgress(runId)).reduce((n, p) => n + p.done + p.skipped + p.failed, 0);
    // One range of 5,000 DEKs: stopping mid-range means releasing it part-done.
    await waitFor('a fifth of the run', async () => (await handled()) >= COUNT / 5, 60_000, 20);
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"event":"worker.stopped","outcome":"closed"');
    const atStop = await handled();
    expect(atStop).toBeLessThan(COUNT);
    expect((await control.getRun(runId))?.phase).toBe('rewrapping');

    const second = spawnRekey(fixture.configPath);
    workers.push(second);
    const run = await waitFor(
      'the run to finish',
      async () => {
        const r = await control.getRun(runId);
        return r?.phase === 'completed' || r?.phase === 'failed' ? r : undefined;
      },
      90_000,
      100,
    );
    expect(run.phase).toBe('completed');
    const [progress] = await control.getProgress(runId);
    // Released, not lost or redone: every DEK counted exactly once across the two workers.
    expect(progress).toMatchObject({ done: COUNT, skipped: 0, failed: 0, remaining: 0 });
    second.kill('SIGTERM');
    await second.exited;
    await control.close();
    await provider.close?.();
  }, 120_000);
});
