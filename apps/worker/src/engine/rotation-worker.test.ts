import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { newDekId } from '@rekey/crypto-core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../logger.ts';
import { createEngine } from './create-engine.ts';
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
