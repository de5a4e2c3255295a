import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { newDekId } from '@rekey/crypto-core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from '../config/load-config.ts';
import type { RunRecord } from '../control/control-store.ts';
import { createLogger } from '../logger.ts';
import { createEngine } from './create-engine.ts';
import type { EngineContext } from './engine-context.ts';
import { RotationWorker } from './rotation-worker.ts';
import { cancelRun, pauseRun, retryRun, unpauseRun } from './run-controls.ts';
import { triggerRotation } from './trigger-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'rekey-controls-'));
const prefix = `{rekey-test-${randomBytes(4).toString('hex')}}`;

afterAll(async () => {
  const admin = new Redis('redis://127.0.0.1:6379');
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  rmSync(dir, { recursive: true, force: true });
});

async function settle(ctx: EngineContext, runId: string, phases: string[]): Promise<RunRecord> {
  for (let i = 0; i < 300; i++) {
    const run = await ctx.control.getRun(runId);
    if (run !== undefined && phases.includes(run.phase)) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} never reached ${phases.join('|')}`);
}

describe('operator controls of a run', () => {
  it('pauses, unpauses, cancels and retries, each audited', async () => {
    const config = parseConfig(
      {
        redis: { url: 'redis://127.0.0.1:6379', prefix },
        control: { kind: 'sqlite', path: join(dir, 'control.db') },
        databases: [{ name: 'one', adapter: 'memory' }],
        keks: [{ name: 'pii', provider: 'memory' }],
      },
      dir,
      {},
    );
    const engine = await createEngine(config, createLogger({ level: 'silent' }));
    const { ctx } = engine;
    const store = ctx.databases.get('one')?.store;
    const provider = ctx.keks.get('pii')?.provider;
    if (store === undefined || provider === undefined) throw new Error('not configured');
    for (let i = 0; i < 2_500; i++) {
      const id = newDekId();
      const w = await provider.wrap(randomBytes(32), { dekId: id, scope: 's', kekName: 'pii' });
      await store.insert({ id, scope: 's', kekName: 'pii', kekRef: w.kekRef, wrapped: w.bytes });
    }
    const worker = new RotationWorker(ctx, { tickMs: 200 });
    const request = { kekName: 'pii', databases: ['one'], trigger: 'test', actor: 'tester' };

    // Paused before any worker runs: it prepares and plans, but rewraps nothing.
    const { run } = await triggerRotation(ctx, request);
    await pauseRun(ctx, run.id, 'tester');
    await worker.start();
    await settle(ctx, run.id, ['rewrapping']);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await ctx.control.getProgress(run.id))[0]?.done).toBe(0);
    expect((await ctx.control.getRun(run.id))?.phase).toBe('rewrapping');

    await cancelRun(ctx, run.id, 'tester');
    const cancelled = await settle(ctx, run.id, ['failed']);
    expect(cancelled.error).toBe('cancelled');
    expect((await ctx.control.getProgress(run.id))[0]?.done).toBe(0);

    // Retry reopens the same run (same KEK name and target) for another sweep and completes.
    const retried = await retryRun(ctx, run.id, 'tester');
    expect(retried.run.id).toBe(run.id);
    await unpauseRun(ctx, run.id, 'tester');
    const done = await settle(ctx, run.id, ['completed', 'failed']);
    expect(done).toMatchObject({ phase: 'completed', sweep: 1, targetRef: cancelled.targetRef });
    expect(await store.countByRef('pii')).toEqual([
      { kekName: 'pii', kekRef: cancelled.targetRef, count: 2_500 },
    ]);
    const actions = (await ctx.control.listAudit({ runId: run.id })).map(
      (a) => `${a.actor} ${a.action}`,
    );
    for (const a of [
      'tester run.paused',
      'tester run.cancelled',
      'tester run.unpaused',
      'tester run.joined',
    ]) {
      expect(actions).toContain(a);
    }
    await worker.stop(5_000);
    await engine.close();
  }, 60_000);
});
