import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type KekProvider, newDekId, RateLimitError } from '@rekey/crypto-core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../logger.ts';
import { createEngine } from './create-engine.ts';
import type { EngineKek } from './engine-context.ts';
import { RotationWorker } from './rotation-worker.ts';
import { triggerRotation } from './trigger-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'rekey-engine-'));
const prefix = `{rekey-test-${randomBytes(4).toString('hex')}}`;
const admin = new Redis('redis://127.0.0.1:6379');

afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe('a rotation run in one worker process', () => {
  it('moves every DEK of every database to the new version, and they still unwrap', async () => {
    const config = parseConfig(
      {
        redis: { url: 'redis://127.0.0.1:6379', prefix },
        control: { kind: 'sqlite', path: join(dir, 'control.db') },
        databases: [
          { name: 'one', adapter: 'memory' },
          { name: 'two', adapter: 'memory' },
        ],
        keks: [{ name: 'pii', provider: 'memory' }],
        limits: { batchSize: 1000, progressInterval: 50 },
      },
      dir,
      {},
    );
    const logger = createLogger({ level: 'silent' });
    const engine = await createEngine(config, logger);
    const { ctx } = engine;
    const provider = ctx.keks.get('pii')?.provider;
    if (provider === undefined) throw new Error('no provider');
    const oldRef = await provider.primary('pii');

    for (const db of ctx.databases.values()) {
      for (let i = 0; i < 2_500; i++) {
        const id = newDekId();
        const binding = { dekId: id, scope: `t${i % 7}`, kekName: 'pii' };
        const wrapped = await provider.wrap(randomBytes(32), binding);
        await db.store.insert({
          id,
          scope: binding.scope,
          kekName: 'pii',
          kekRef: wrapped.kekRef,
          wrapped: wrapped.bytes,
        });
      }
    }

    const worker = new RotationWorker(ctx, { tickMs: 200, lockDurationMs: 5_000 });
    await worker.start();
    const { run } = await triggerRotation(ctx, {
      kekName: 'pii',
      databases: ['one', 'two'],
      trigger: 'test',
      actor: 'test',
    });
    let finished = await ctx.control.getRun(run.id);
    for (
      let i = 0;
      i < 300 && finished?.phase !== 'completed' && finished?.phase !== 'failed';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      finished = await ctx.control.getRun(run.id);
    }
    await worker.stop(5_000);

    expect(finished?.phase).toBe('completed');
    const target = finished?.targetRef as string;
    expect(target).not.toBe(oldRef);
    const progress = await ctx.control.getProgress(run.id);
    expect(progress.map((p) => [p.database, p.done, p.skipped, p.failed, p.remaining])).toEqual([
      ['one', 2_500, 0, 0, 0],
      ['two', 2_500, 0, 0, 0],
    ]);
    for (const db of ctx.databases.values()) {
      expect(await db.store.countByRef('pii')).toEqual([
        { kekName: 'pii', kekRef: target, count: 2_500 },
      ]);
      const [sample] = await db.store.scan({ kekName: 'pii', kekRefs: [target], limit: 1 });
      if (sample === undefined) throw new Error('no sample');
      const dek = await provider.unwrap(
        { kekRef: sample.kekRef, bytes: sample.wrapped },
        { dekId: sample.id, scope: sample.scope, kekName: 'pii' },
      );
      expect(dek.length).toBe(32);
    }
    await engine.close();
  }, 60_000);
});

/** A provider that throttles a few unwraps, as a KMS past its quota does. */
function throttling(inner: KekProvider, times: number): KekProvider & { throttled: number } {
  let calls = 0;
  const out = {
    throttled: 0,
    id: inner.id,
    wrap: inner.wrap.bind(inner),
    primary: inner.primary.bind(inner),
    rotate: inner.rotate.bind(inner),
    describe: inner.describe.bind(inner),
    disable: inner.disable.bind(inner),
    unwrap: async (...args: Parameters<KekProvider['unwrap']>) => {
      calls++;
      if (calls % 900 === 0 && out.throttled < times) {
        out.throttled++;
        throw new RateLimitError('throttled', 150);
      }
      return inner.unwrap(...args);
    },
  };
  return out;
}

describe('a throttled provider', () => {
  it('backs the batch off with the queue rate limit and completes with no failed DEK', async () => {
    const config = parseConfig(
      {
        redis: { url: 'redis://127.0.0.1:6379', prefix },
        control: { kind: 'sqlite', path: join(dir, 'control-throttle.db') },
        databases: [{ name: 'one', adapter: 'memory' }],
        keks: [{ name: 'pii', provider: 'memory' }],
      },
      dir,
      {},
    );
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (l: string) => lines.push(l) },
    });
    const { MemoryKekProvider } = await import('@rekey/crypto-core/testing');
    const provider = throttling(new MemoryKekProvider({ initialKeks: ['pii'] }), 3);
    const keks = new Map<string, EngineKek>([
      [
        'pii',
        {
          name: 'pii',
          provider,
          schedule: undefined,
          retireAfterMs: undefined,
          requestsPerSecond: undefined,
        },
      ],
    ]);
    const engine = await createEngine(config, logger, { keks });
    const { ctx } = engine;
    const store = ctx.databases.get('one')?.store;
    if (store === undefined) throw new Error('no store');
    for (let i = 0; i < 3_000; i++) {
      const id = newDekId();
      const w = await provider.wrap(randomBytes(32), { dekId: id, scope: 's', kekName: 'pii' });
      await store.insert({ id, scope: 's', kekName: 'pii', kekRef: w.kekRef, wrapped: w.bytes });
    }
    const worker = new RotationWorker(ctx, { tickMs: 200 });
    await worker.start();
    const { run } = await triggerRotation(ctx, {
      kekName: 'pii',
      databases: ['one'],
      trigger: 'test',
      actor: 'test',
    });
    let finished = await ctx.control.getRun(run.id);
    for (
      let i = 0;
      i < 300 && finished?.phase !== 'completed' && finished?.phase !== 'failed';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      finished = await ctx.control.getRun(run.id);
    }
    await worker.stop(5_000);
    expect(finished?.phase).toBe('completed');
    expect(provider.throttled).toBe(3);
    expect(lines.filter((l) => l.includes('"event":"provider.throttled"'))).toHaveLength(3);
    const [progress] = await ctx.control.getProgress(run.id);
    expect(progress).toMatchObject({ done: 3_000, failed: 0, remaining: 0 });
    await engine.close();
  }, 60_000);
});
