/**
 * A rotation through a real three-master Redis Cluster: the worker and the CLI are given only a
 * node that does not own the prefix's slot, so everything they do must follow MOVED redirections
 * (the queues, BullMQ's scripts, the leader lock, the request pacer's script, the progress
 * stream). Every DEK ends on the new version, all keys land in the prefix's one slot, the
 * dashboard's event reader sees the run's events through the cluster, and the eviction check
 * asks every master.
 */
import { assertNoEviction, connectRedis, type RedisConnection } from '@rekey/worker';
import { parseConfig } from '@rekey/worker/config';
import { eventsKey } from '@rekey/worker/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisEventSource } from '../../apps/dashboard/src/redis-event-source.ts';
import { Fixture, REDIS_URL } from './support/fixture.ts';
import { type RedisCluster, startRedisCluster } from './support/redis-cluster.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = 2_000;

describe.skipIf(typeof Deno !== 'undefined')('a rotation through a Redis Cluster', () => {
  let cluster: RedisCluster;
  let fixture: Fixture;
  let admin: RedisConnection;
  let worker: WorkerProcess | undefined;
  let oldRef: string;
  let rotate: { code: number; stdout: string; stderr: string };
  let verify: { code: number; stdout: string; stderr: string };
  let workerExit: number | undefined;
  const seenRuns = new Set<string>();

  beforeAll(async () => {
    cluster = await startRedisCluster();
    // Build the fixture twice: once to learn its prefix, then with a seed node that is not the
    // owner of that prefix's slot.
    const probe = new Fixture({
      databases: ['sqlite'],
      redis: { cluster: { nodes: cluster.urls } },
    });
    const owner = cluster.ownerOf(probe.prefix);
    await probe.cleanup();
    const seed = cluster.urls.find((u) => !u.endsWith(`:${owner}`)) as string;
    fixture = new Fixture({
      databases: ['sqlite'],
      redis: { cluster: { nodes: [seed] } },
      // A rate high enough not to slow the test, so that the pacer's Lua script runs on the cluster.
      kek: {
        name: 'pii',
        provider: 'local',
        settings: { path: 'keyring.json' },
        requestsPerSecond: 50_000,
      },
    });
    admin = connectRedis(fixture.config.redis);

    const provider = await fixture.provider();
    await provider.rotate('pii');
    oldRef = await provider.primary('pii');
    await fixture.seed('lite', COUNT, provider);
    await provider.close?.();

    const events = redisEventSource(connectRedis(fixture.config.redis), fixture.prefix);
    await events.ready;
    const stop = events.subscribe((e) => seenRuns.add(e.runId));
    try {
      worker = spawnRekey(fixture.configPath);
      rotate = await fixture.cli(['rotate', 'pii', '--wait', '--json']);
      verify = await fixture.cli(['verify', 'pii', '--json']);
    } finally {
      worker?.kill('SIGTERM');
      workerExit = await worker?.exited;
      // Let the reader take in the last entries before it closes.
      await new Promise((r) => setTimeout(r, 300));
      stop();
      await events.close();
    }
  }, 90_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    admin?.disconnect();
    await fixture?.cleanup();
    cluster?.stop();
  });

  it('completes the run, and rotate --wait exits 0 with a final completed line', () => {
    expect(rotate.stderr + (worker?.output() ?? '')).not.toMatch(/MOVED|CROSSSLOT/);
    expect(rotate.code).toBe(0);
    const last = JSON.parse(rotate.stdout.trim().split('\n').at(-1) as string);
    expect(last).toMatchObject({ event: 'progress', phase: 'completed', kekName: 'pii' });
    expect(last.totals.done).toBe(COUNT);
    expect(last.totals.remaining).toBe(0);
    expect(verify.code).toBe(0);
    expect(workerExit).toBe(0);
  });

  it('moves every DEK to the new primary version', async () => {
    const provider = await fixture.provider();
    const target = await provider.primary('pii');
    await provider.close?.();
    expect(target).not.toBe(oldRef);
    const { store, close } = await fixture.store('lite');
    expect(await store.countByRef('pii')).toEqual([
      { kekName: 'pii', kekRef: target, count: COUNT },
    ]);
    await close();
  });

  it('keeps its keys on the cluster, all in the slot of the prefix', async () => {
    const owner = cluster.ownerOf(fixture.prefix);
    const keys = cluster
      .cli(owner, '--scan', '--pattern', `${fixture.prefix}*`)
      .split('\n')
      .filter((k) => k !== '');
    expect(keys.length).toBeGreaterThan(3);
    expect(keys).toContain(eventsKey(fixture.prefix));
    const slots = new Set(keys.map((k) => cluster.cli(owner, 'cluster', 'keyslot', k).trim()));
    expect(slots.size).toBe(1);
    expect(await admin.xlen(eventsKey(fixture.prefix))).toBeGreaterThan(0);
    // Nothing went to the single-node Redis the other tests share.
    expect(await fixture.redisKeys(REDIS_URL)).toEqual([]);
  });

  it('delivers the run events to the dashboard reader through the cluster', () => {
    const first = JSON.parse(rotate.stdout.trim().split('\n')[0] as string);
    expect(first).toMatchObject({ event: 'run', kekName: 'pii' });
    const runId = first.runId;
    expect(typeof runId).toBe('string');
    expect(seenRuns.has(runId)).toBe(true);
  });

  it('refuses to run when any master may evict keys', async () => {
    const victim = cluster.ports.find((p) => p !== cluster.ownerOf(fixture.prefix)) as number;
    await expect(assertNoEviction(admin)).resolves.toBeUndefined();
    cluster.cli(victim, 'config', 'set', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expect(assertNoEviction(admin)).rejects.toThrow(/allkeys-lru on 1 of 3 masters/);
    } finally {
      cluster.cli(victim, 'config', 'set', 'maxmemory-policy', 'noeviction');
    }
  });

  it('reads the cluster configuration by node, refusing inline passwords', () => {
    const raw = { ...fixture.raw, redis: { cluster: { nodes: ['redis://u:pw@127.0.0.1:1'] } } };
    expect(() => parseConfig(raw, fixture.dir)).toThrow(/\/redis\/cluster\/nodes\/0: inline/);
    expect(parseConfig(fixture.raw, fixture.dir).redis.cluster?.nodes).toHaveLength(1);
  });
});
