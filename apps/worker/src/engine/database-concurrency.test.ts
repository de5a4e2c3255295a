import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type DekStore, newDekId } from '@rekey/crypto-core';
import { MemoryDekStore, MemoryKekProvider } from '@rekey/crypto-core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../logger.ts';
import { createEngine } from './create-engine.ts';
import type { EngineDatabase, EngineKek } from './engine-context.ts';
import { RotationWorker } from './rotation-worker.ts';
import { triggerRotation } from './trigger-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'rekey-concurrency-'));
const prefix = `{rekey-test-${randomBytes(4).toString('hex')}}`;

afterAll(async () => {
  const admin = new Redis('redis://127.0.0.1:6379');
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  rmSync(dir, { recursive: true, force: true });
});

/** A store whose writes take a while and which records how many run at once. */
function slowStore(inner: DekStore): DekStore & { peak: number } {
  let active = 0;
  const store: DekStore & { peak: number } = {
    peak: 0,
    migrate: () => inner.migrate(),
    insert: (r) => inner.insert(r),
    get: (id) => inner.get(id),
    getMany: (ids) => inner.getMany(ids),
    findByScope: (scope, kekName) => inner.findByScope(scope, kekName),
    delete: (id) => inner.delete(id),
    deleteScope: (scope) => inner.deleteScope(scope),
    scan: (query) => inner.scan(query),
    countByRef: (kekName) => inner.countByRef(kekName),
    compareAndSwap: async (swaps) => {
      active++;
      store.peak = Math.max(store.peak, active);
      try {
        await new Promise((r) => setTimeout(r, 40));
        return await inner.compareAndSwap(swaps);
      } finally {
        active--;
      }
    },
  };
  return store;
}

describe('per-database concurrency', () => {
  it('holds across workers: two workers, concurrency 1, never two batches of a database at once', async () => {
    const config = parseConfig(
      {
        redis: { url: 'redis://127.0.0.1:6379', prefix },
        control: { kind: 'sqlite', path: join(dir, 'control.db') },
        databases: [{ name: 'one', adapter: 'memory', concurrency: 1 }],
        keks: [{ name: 'pii', provider: 'memory' }],
      },
      dir,
      {},
    );
    const provider = new MemoryKekProvider({ initialKeks: ['pii'] });
    const store = slowStore(new MemoryDekStore());
    for (let i = 0; i < 6_000; i++) {
      const id = newDekId();
      const w = await provider.wrap(randomBytes(32), { dekId: id, scope: 's', kekName: 'pii' });
      await store.insert({ id, scope: 's', kekName: 'pii', kekRef: w.kekRef, wrapped: w.bytes });
    }
    const parts = {
      databases: new Map<string, EngineDatabase>([['one', { name: 'one', store, concurrency: 1 }]]),
      keks: new Map<string, EngineKek>([
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
      ]),
    };
    const logger = createLogger({ level: 'silent' });
    const a = await createEngine(config, logger, parts);
    const b = await createEngine(config, logger, parts);
    const workers = [
      new RotationWorker(a.ctx, { tickMs: 200 }),
      new RotationWorker(b.ctx, { tickMs: 200 }),
    ];
    for (const w of workers) await w.start();

    const { run } = await triggerRotation(a.ctx, {
      kekName: 'pii',
      databases: ['one'],
      trigger: 'test',
      actor: 'test',
    });
    let finished = await a.ctx.control.getRun(run.id);
    for (
      let i = 0;
      i < 300 && finished?.phase !== 'completed' && finished?.phase !== 'failed';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      finished = await a.ctx.control.getRun(run.id);
    }
    for (const w of workers) await w.stop(5_000);
    expect(finished?.phase).toBe('completed');
    // Six ranges of 1,000 went through, one batch (one write) at a time.
    expect(store.peak).toBe(1);
    expect((await a.ctx.control.getProgress(run.id))[0]?.done).toBe(6_000);
    await a.close();
    await b.close();
  }, 60_000);
});
