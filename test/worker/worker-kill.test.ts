/**
 * SIGKILL of the worker process at several points of one run (while preparing or planning, and
 * twice while rewrapping), each time followed by a new worker: the run completes, and no DEK is
 * lost, corrupted or left on the old version.
 */
import type { KekProvider } from '@rekey/crypto-core';
import type { ControlStore } from '@rekey/worker/control';
import { afterAll, describe, expect, it } from 'vitest';

import { Fixture, type SeededDek } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = 6_000;

describe.skipIf(typeof Deno !== 'undefined')('a worker killed with SIGKILL mid-run', () => {
  // Paced to about 1,500 DEKs/s (two provider requests each) so the kills land mid-run.
  const fixture = new Fixture({
    databases: ['postgres'],
    control: 'postgres',
    kek: {
      name: 'pii',
      provider: 'local',
      settings: { path: 'keyring.json' },
      requestsPerSecond: 3_000,
    },
  });
  const workers: WorkerProcess[] = [];
  let provider: KekProvider | undefined;
  let control: ControlStore | undefined;

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await provider?.close?.();
    await control?.close();
    await fixture.cleanup();
  });

  it('completes after kills at several points, with every DEK rewrapped and intact', async () => {
    provider = await fixture.provider();
    await provider.rotate('pii');
    const oldRef = await provider.primary('pii');
    const seeded: SeededDek[] = await fixture.seed('pg', COUNT, provider);
    control = await fixture.control();

    const start = spawnRekey(fixture.configPath);
    workers.push(start);
    await waitFor('the worker to start', async () => start.output().includes('"worker.started"'));
    const rotate = await fixture.cli(['rotate', 'pii', '--json']);
    expect(rotate.code).toBe(0);
    const runId = JSON.parse(rotate.stdout.split('\n')[0] as string).runId as string;

    const handled = async (): Promise<number> => {
      const progress = await control?.getProgress(runId);
      return (progress ?? []).reduce((n, p) => n + p.done + p.skipped + p.failed, 0);
    };
    // Kill points: a random moment in prepare/plan, then at about 25-40% and 60-75% rewrapped.
    const killPoints = [0, 0.25 + Math.random() * 0.15, 0.6 + Math.random() * 0.15];
    const killedAt: number[] = [];
    const phases: string[] = [];
    for (const point of killPoints) {
      const current = workers.at(-1) as WorkerProcess;
      if (point === 0) await new Promise((r) => setTimeout(r, Math.random() * 150));
      else
        await waitFor(
          `progress ${point}`,
          async () => (await handled()) >= point * COUNT,
          60_000,
          20,
        ).catch((error: Error) => {
          // The worker's log (ids and counts only) says where it stalled.
          throw new Error(`${error.message}; worker log tail:\n${current.output().slice(-4_000)}`);
        });
      current.kill('SIGKILL');
      expect(await current.exited).toBe(137);
      killedAt.push(await handled());
      phases.push((await control?.getRun(runId))?.phase ?? 'unknown');
      workers.push(spawnRekey(fixture.configPath));
    }
    console.info(`killed at ${killedAt.join(', ')} DEKs handled, phases ${phases.join(', ')}`);
    expect(killedAt[1]).toBeLessThan(COUNT);
    expect(killedAt[2]).toBeLessThan(COUNT);

    const run = await waitFor(
      'the run to finish',
      async () => {
        const r = await control?.getRun(runId);
        return r?.phase === 'completed' || r?.phase === 'failed' ? r : undefined;
      },
      120_000,
      200,
    );
    expect(run.phase).toBe('completed');
    expect(run.targetRef).not.toBe(oldRef);

    const fresh = await fixture.provider();
    const { store, close } = await fixture.store('pg');
    expect(await store.countByRef('pii')).toEqual([
      { kekName: 'pii', kekRef: run.targetRef, count: COUNT },
    ]);
    const records = await store.getMany(seeded.map((s) => s.id));
    expect(records).toHaveLength(COUNT);
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const s of seeded) {
      const r = byId.get(s.id);
      if (r === undefined) throw new Error(`lost ${s.id}`);
      const dek = await fresh.unwrap(
        { kekRef: r.kekRef, bytes: r.wrapped },
        { dekId: r.id, scope: r.scope, kekName: 'pii' },
      );
      expect(Buffer.from(dek).equals(Buffer.from(s.plaintext))).toBe(true);
    }
    // Progress stayed exact through the kills: every DEK counted once, none skipped or failed.
    const progress = await control.getProgress(runId);
    expect(progress.map((p) => [p.done, p.skipped, p.failed, p.remaining])).toEqual([
      [COUNT, 0, 0, 0],
    ]);
    // No DEK was rewrapped twice: revision 2 everywhere (1 at insert, +1 for the one rewrap).
    expect(new Set(records.map((r) => r.revision))).toEqual(new Set([2]));
    const verify = await fixture.cli(['verify', 'pii', '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, remaining: 0 });
    await close();
    await fresh.close?.();
  }, 240_000);
});
