/**
 * Redis is never the only record: emptied mid-run (FLUSHALL), the leader notices and rebuilds
 * every queue item from the control database, and the run ends as it would have. A Redis that
 * may evict keys, or an invalid config, stops the worker before anything is enqueued.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { connectRedis } from '@rekey/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type DedicatedRedis, startDedicatedRedis } from './support/dedicated-redis.ts';
import { Fixture } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = 6_000;

describe.skipIf(typeof Deno !== 'undefined')('losing Redis', () => {
  let redis: DedicatedRedis;
  const workers: WorkerProcess[] = [];
  const fixtures: Fixture[] = [];

  beforeAll(async () => {
    redis = await startDedicatedRedis();
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    for (const f of fixtures) await f.cleanup();
    redis?.stop();
  });

  it('resumes a run emptied by FLUSHALL from the control database, with the same result', async () => {
    const fixture = new Fixture({
      databases: ['postgres'],
      redisUrl: redis.url,
      kek: {
        name: 'pii',
        provider: 'local',
        settings: { path: 'keyring.json' },
        requestsPerSecond: 3_000,
      },
    });
    fixtures.push(fixture);
    const provider = await fixture.provider();
    const seeded = await fixture.seed('pg', COUNT, provider);
    const oldRef = await provider.primary('pii');
    const control = await fixture.control();

    const worker = spawnRekey(fixture.configPath);
    workers.push(worker);
    const rotate = await fixture.cli(['rotate', 'pii', '--json']);
    const runId = JSON.parse(rotate.stdout).runId as string;
    const handled = async (): Promise<number> =>
      (await control.getProgress(runId)).reduce((n, p) => n + p.done + p.skipped + p.failed, 0);
    await waitFor('a third of the run', async () => (await handled()) >= COUNT / 3, 60_000, 20);

    const admin = connectRedis(redis.url);
    await admin.flushall();
    const atFlush = await handled();
    expect(atFlush).toBeLessThan(COUNT);

    const run = await waitFor(
      'the run to finish',
      async () => {
        const r = await control.getRun(runId);
        return r?.phase === 'completed' || r?.phase === 'failed' ? r : undefined;
      },
      90_000,
      200,
    );
    expect(run.phase).toBe('completed');
    expect(worker.output()).toContain('"event":"redis.lost"');
    const { store, close } = await fixture.store('pg');
    expect(await store.countByRef('pii')).toEqual([
      { kekName: 'pii', kekRef: run.targetRef, count: COUNT },
    ]);
    const records = await store.getMany(seeded.map((s) => s.id));
    const fresh = await fixture.provider();
    for (const r of records.slice(0, 500)) {
      await fresh.unwrap(
        { kekRef: r.kekRef, bytes: r.wrapped },
        { dekId: r.id, scope: r.scope, kekName: 'pii' },
      );
    }
    expect(records.every((r) => r.kekRef !== oldRef && r.revision === 2)).toBe(true);

    // Status reads the control database, which kept the whole story through the loss.
    const again = await fixture.cli(['status', runId, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      phase: 'completed',
      totals: { remaining: 0 },
    });
    worker.kill('SIGTERM');
    await worker.exited;
    await admin.quit();
    await close();
    await control.close();
    await provider.close?.();
    await fresh.close?.();
  }, 180_000);

  it('refuses to start a worker on a Redis that may evict keys, enqueueing nothing', async () => {
    const fixture = new Fixture({ databases: ['sqlite'], redisUrl: redis.url });
    fixtures.push(fixture);
    const admin = connectRedis(redis.url);
    await admin.flushall();
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const worker = spawnRekey(fixture.configPath);
      workers.push(worker);
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toContain('maxmemory-policy is allkeys-lru');
      expect(await admin.dbsize()).toBe(0);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.quit();
    }
  }, 60_000);

  it('fails at start on an invalid config, listing every problem by path, enqueueing nothing', async () => {
    const fixture = new Fixture({ databases: ['sqlite'], redisUrl: redis.url });
    fixtures.push(fixture);
    const broken = {
      ...fixture.raw,
      databases: [
        { name: 'lite', adapter: 'postgres', connection: { env: 'REKEY_TEST_UNSET_URL' } },
      ],
      limits: { batchSize: 50 },
    };
    const path = join(fixture.dir, 'broken.json');
    writeFileSync(path, JSON.stringify(broken));
    const admin = connectRedis(redis.url);
    await admin.flushall();

    const rotate = await fixture.cli(['rotate', 'pii', '--config', path]);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toContain('/limits/batchSize: must be >= 1000');
    const worker = spawnRekey(path, ['worker'], { REKEY_TEST_UNSET_URL: '' });
    workers.push(worker);
    expect(await worker.exited).toBe(2);
    expect(await admin.dbsize()).toBe(0);

    writeFileSync(path, JSON.stringify({ ...broken, limits: {} }));
    const second = await fixture.cli(['worker', '--config', path]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      '/databases/0/connection: environment variable REKEY_TEST_UNSET_URL is not set',
    );
    expect(await admin.dbsize()).toBe(0);
    await admin.quit();
  }, 60_000);
});
