/**
 * A database connection killed mid-batch (`pg_terminate_backend`): the batch fails with a
 * retryable error, is retried, and the run completes with every DEK rewrapped once.
 */
import { postgresDriver } from '@rekey/worker/control';
import { afterAll, describe, expect, it } from 'vitest';

import { Fixture, PG_URL } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = 6_000;

describe.skipIf(typeof Deno !== 'undefined')('a PostgreSQL connection killed mid-batch', () => {
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

  it('retries the batch and completes the run', async () => {
    const provider = await fixture.provider();
    await fixture.seed('pg', COUNT, provider);
    const control = await fixture.control();
    worker = spawnRekey(fixture.configPath);
    const rotate = await fixture.cli(['rotate', 'pii', '--json']);
    const runId = JSON.parse(rotate.stdout).runId as string;
    const handled = async (): Promise<number> =>
      (await control.getProgress(runId)).reduce((n, p) => n + p.done + p.skipped + p.failed, 0);
    await waitFor('rewrapping to start', async () => (await handled()) > 0, 60_000, 20);

    // Hold the table so the worker's compare-and-swap UPDATE waits on the lock mid-batch, then
    // kill the backend running it: the statement in flight fails, not an idle connection.
    const admin = postgresDriver(PG_URL);
    let terminated = 0;
    for (let round = 0; round < 2; round++) {
      await admin.transaction(async (tx) => {
        await tx.query(`LOCK TABLE ${fixture.table} IN EXCLUSIVE MODE`);
        const blocked = await waitFor(
          'a blocked compare-and-swap',
          async () => {
            const { rows } = await admin.query(
              `SELECT pid FROM pg_stat_activity WHERE datname = 'test' AND wait_event_type = 'Lock'
                AND query LIKE ? AND query ILIKE 'update%'`,
              [`%${fixture.table}%`],
            );
            return rows.length > 0 ? rows : undefined;
          },
          30_000,
          10,
        );
        for (const b of blocked) {
          const { rows } = await admin.query('SELECT pg_terminate_backend(?) AS ok', [b.pid]);
          if (rows[0]?.ok === true) terminated++;
        }
      });
    }
    await admin.close();
    expect(terminated).toBeGreaterThan(0);

    const run = await waitFor(
      'the run to finish',
      async () => {
        const r = await control.getRun(runId);
        return r?.phase === 'completed' || r?.phase === 'failed' ? r : undefined;
      },
      120_000,
      200,
    );
    expect(run.phase).toBe('completed');
    expect(worker.output()).not.toMatch(/\n\s+at /); // no crash, no stack trace
    // At least one batch saw its connection die and was retried.
    expect(worker.output()).toMatch(/"event":"batch\.error".*"code":"STORE_UNAVAILABLE"/);
    const { store, close } = await fixture.store('pg');
    expect(await store.countByRef('pii')).toEqual([
      { kekName: 'pii', kekRef: run.targetRef, count: COUNT },
    ]);
    const [sample] = await store.scan({
      kekName: 'pii',
      kekRefs: [run.targetRef as string],
      limit: 1,
    });
    expect(sample?.revision).toBe(2);
    await close();
    await control.close();
    await provider.close?.();
  }, 180_000);
});
