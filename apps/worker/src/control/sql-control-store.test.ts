import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { ControlStore } from './control-store.ts';
import { SqlControlStore } from './sql-control-store.ts';
import { postgresDriver } from './sql-driver.ts';
import { sqliteDriver } from './sqlite-driver.ts';

const dir = mkdtempSync(join(tmpdir(), 'rekey-control-'));
const prefix = `rk${randomBytes(4).toString('hex')}_`;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

const stores: Record<string, () => ControlStore> = {
  sqlite: () => new SqlControlStore(sqliteDriver(join(dir, 'control.db')), prefix),
  postgres: () => new SqlControlStore(postgresDriver(PG_URL), prefix),
};

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const pg = postgresDriver(PG_URL);
  for (const t of ['schema_version', 'runs', 'run_databases', 'run_ranges', 'audit']) {
    await pg.query(`DROP TABLE IF EXISTS ${prefix}${t}`);
  }
  await pg.close();
});

describe.each(Object.keys(stores))('the %s control store', (kind) => {
  const open = stores[kind] as () => ControlStore;

  it('migrates again and again without error', async () => {
    const a = open();
    const b = open();
    // NOTE: two SQLite connections in one thread would block each other synchronously; separate
    // worker processes do not, so SQLite migrates one after the other here.
    if (kind === 'postgres') await Promise.all([a.migrate(), b.migrate()]);
    else await b.migrate();
    await a.migrate();
    await Promise.all([a.close(), b.close()]);
    const c = open();
    expect(await c.listRuns({ limit: 1 })).toEqual(expect.any(Array));
    await c.close();
  });

  it('lets a second trigger join the active run of a KEK name instead of starting another', async () => {
    const store = open();
    const kek = `k${randomBytes(3).toString('hex')}`;
    const [first, second] = await Promise.all([
      store.startRun({ kekName: kek, databases: ['a'], trigger: 'cli' }),
      store.startRun({ kekName: kek, databases: ['a'], trigger: 'schedule' }),
    ]);
    expect(first?.run.id).toBe(second?.run.id);
    expect([first?.joined, second?.joined].sort()).toEqual([false, true]);

    await store.updateRun(first.run.id, { phase: 'completed', finishedAt: new Date() });
    const third = await store.startRun({ kekName: kek, databases: ['a'], trigger: 'cli' });
    expect(third.joined).toBe(false);
    expect(third.run.id).not.toBe(first.run.id);
    await store.close();
  });

  it('reopens the finished run of a KEK name and target instead of starting a second one', async () => {
    const store = open();
    const kek = `k${randomBytes(3).toString('hex')}`;
    const { run } = await store.startRun({
      kekName: kek,
      targetRef: 'x:v2',
      databases: ['a'],
      trigger: 'cli',
    });
    await store.updateRun(run.id, { phase: 'completed' });
    const again = await store.startRun({
      kekName: kek,
      targetRef: 'x:v2',
      databases: ['a'],
      trigger: 'cli',
    });
    expect(again.run.id).toBe(run.id);
    expect(again.run.phase).toBe('preparing');
    expect(again.run.sweep).toBe(1);
    await store.close();
  });

  it('updates a run only from the expected phase', async () => {
    const store = open();
    const { run } = await store.startRun({
      kekName: `k${randomBytes(3).toString('hex')}`,
      databases: ['a'],
      trigger: 'cli',
    });
    expect(
      await store.updateRun(run.id, { phase: 'rewrapping', targetRef: 'x:v2' }, 'preparing'),
    ).toBe(true);
    expect(await store.updateRun(run.id, { phase: 'rewrapping' }, 'preparing')).toBe(false);
    expect((await store.getRun(run.id))?.targetRef).toBe('x:v2');
    await store.close();
  });

  it('records planned ranges once even when a planner checkpoints the same ranges twice', async () => {
    const store = open();
    const { run } = await store.startRun({
      kekName: `k${randomBytes(3).toString('hex')}`,
      databases: ['a', 'b'],
      trigger: 'cli',
    });
    await store.beginSweep(run.id, ['a', 'b'], 0);
    const ranges = [
      { start: '', end: '1', planned: 10 },
      { start: '1', end: '2', planned: 5 },
    ];
    await store.checkpointPlanner(run.id, 'a', 0, ranges, '2', false);
    await store.checkpointPlanner(run.id, 'a', 0, ranges, '2', true);
    expect(await store.openWork(run.id, 0)).toEqual({ pendingRanges: 2, planning: 1 });

    await store.addProgress(run.id, 'a', 0, '', {
      done: 8,
      skipped: 1,
      failed: 1,
      failures: { DECRYPTION_FAILED: 1 },
    });
    expect(await store.finishRange(run.id, 'a', 0, '', 'done')).toBe(true);
    expect(await store.finishRange(run.id, 'a', 0, '', 'done')).toBe(false);
    const pending = await store.listPendingRanges(run.id, 'a', 0, null, 10);
    expect(pending.map((r) => r.start)).toEqual(['1']);

    const a = (await store.getProgress(run.id)).find((p) => p.database === 'a');
    expect(a).toMatchObject({
      planned: 15,
      done: 8,
      skipped: 1,
      failed: 1,
      plannerDone: true,
      plannerCursor: '2',
      failures: { DECRYPTION_FAILED: 1 },
    });
    await store.close();
  });

  it('keeps audit records with ids and counts', async () => {
    const store = open();
    const runId = randomBytes(8).toString('hex');
    await store.audit({
      actor: 'cli',
      action: 'rotate',
      kekName: 'pii',
      kekRef: 'x:v2',
      runId,
      detail: { count: 3 },
    });
    const [entry] = await store.listAudit({ runId });
    expect(entry).toMatchObject({ actor: 'cli', action: 'rotate', runId, detail: { count: 3 } });
    await store.close();
  });
});
