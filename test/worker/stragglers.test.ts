/**
 * An application keeps writing DEKs during the run, some under the old primary (instances that
 * have not yet seen the new one): verify finds them, the run sweeps them, and ends at zero.
 */
import { randomBytes } from 'node:crypto';

import { newDekId } from '@rekey/crypto-core';
import { afterAll, describe, expect, it } from 'vitest';

import { Fixture } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = 4_000;

describe.skipIf(typeof Deno !== 'undefined')('an application writing DEKs during a run', () => {
  const fixture = new Fixture({
    databases: ['postgres'],
    kek: {
      name: 'pii',
      provider: 'local',
      settings: { path: 'keyring.json' },
      requestsPerSecond: 4_000,
    },
  });
  let worker: WorkerProcess | undefined;

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await fixture.cleanup();
  });

  it('sweeps DEKs written under the old primary until verify counts zero', async () => {
    const stale = await fixture.provider();
    await fixture.seed('pg', COUNT, stale);
    const oldRef = await stale.primary('pii');
    const control = await fixture.control();
    const { store, close } = await fixture.store('pg');

    worker = spawnRekey(fixture.configPath);
    const rotate = await fixture.cli(['rotate', 'pii', '--json']);
    const runId = JSON.parse(rotate.stdout).runId as string;

    // The application: stale instances wrap under the old ref until the run has verified once,
    // up-to-date instances wrap under the new primary; both keep writing for a while after.
    const written: string[] = [];
    let staleWrites = 0;
    let writing = true;
    const app = (async () => {
      let fresh: Awaited<ReturnType<typeof fixture.provider>> | undefined;
      for (let i = 0; writing; i++) {
        const run = await control.getRun(runId);
        const useStale = (run?.sweep ?? 0) === 0 && run?.phase !== 'verifying' && i % 2 === 0;
        if (!useStale && fresh === undefined && run?.targetRef) fresh = await fixture.provider();
        const provider = useStale || fresh === undefined ? stale : fresh;
        const id = newDekId();
        const binding = { dekId: id, scope: 'app', kekName: 'pii' };
        const wrapped = await provider.wrap(
          new Uint8Array(randomBytes(32)),
          binding,
          useStale ? oldRef : undefined,
        );
        await store.insert({
          id,
          scope: 'app',
          kekName: 'pii',
          kekRef: wrapped.kekRef,
          wrapped: wrapped.bytes,
        });
        written.push(id);
        if (wrapped.kekRef === oldRef) staleWrites++;
        await new Promise((r) => setTimeout(r, 5));
      }
      await fresh?.close?.();
    })();

    await waitFor(
      'a straggler sweep',
      async () => ((await control.getRun(runId))?.sweep ?? 0) >= 1,
      60_000,
      50,
    );
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await app;

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
    expect(run.sweep).toBeGreaterThanOrEqual(1);
    expect(staleWrites).toBeGreaterThan(0);
    const counts = await store.countByRef('pii');
    expect(counts).toEqual([
      { kekName: 'pii', kekRef: run.targetRef, count: COUNT + written.length },
    ]);
    expect(await store.getMany(written)).toHaveLength(written.length);

    const verify = await fixture.cli(['verify', 'pii', '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, remaining: 0, sampleFailures: 0 });
    await close();
    await control.close();
    await stale.close?.();
  }, 180_000);
});
