import type { DatabaseProgress, RunRecord } from '@rekey/worker/control';
import { describe, expect, it } from 'vitest';

import { errorClass, isPaused, loadRunView, summarize } from './run-view.ts';
import { openTestStack } from './testing/test-stack.ts';
import { ThroughputTracker } from './throughput.ts';

const at = new Date('2026-01-01T00:00:00Z');
const baseRun: RunRecord = {
  id: 'r1',
  kekName: 'pii',
  targetRef: 'local:pii/v2',
  previousRef: 'local:pii/v1',
  phase: 'rewrapping',
  databases: ['a', 'b'],
  trigger: 'dashboard',
  sweep: 0,
  createdAt: at,
  updatedAt: at,
  finishedAt: null,
  error: null,
  retireAt: null,
  retiredAt: null,
  paused: false,
};

function progress(database: string, counts: Partial<DatabaseProgress>): DatabaseProgress {
  return {
    runId: 'r1',
    database,
    sweep: 0,
    plannerCursor: null,
    plannerDone: true,
    fromRefs: ['local:pii/v1'],
    planned: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    remaining: null,
    startedAt: at,
    updatedAt: at,
    failures: {},
    ...counts,
  } as DatabaseProgress;
}

describe('a run summary', () => {
  it('adds up databases and counts what is left', () => {
    const s = summarize(
      baseRun,
      [
        progress('a', { planned: 100, done: 50, skipped: 5, failed: 5 }),
        progress('b', { planned: 100, done: 100 }),
      ],
      new ThroughputTracker(),
      1_000,
    );
    expect(s.totals).toEqual({
      planned: 200,
      done: 150,
      skipped: 5,
      failed: 5,
      remaining: 40,
      percent: 80,
    });
    expect(s.databaseViews.map((d) => d.percent)).toEqual([60, 100]);
    expect(s.active).toBe(true);
  });

  it('shows a database the planner has not reached as planning at 0%', () => {
    const s = summarize(
      baseRun,
      [progress('a', { planned: 10, done: 10 })],
      new ThroughputTracker(),
      0,
    );
    const b = s.databaseViews.find((d) => d.database === 'b');
    expect(b).toMatchObject({ planning: true, percent: 0, done: 0 });
  });

  it('is at 100% once completed, with the verified remainder', () => {
    const run = { ...baseRun, phase: 'completed' as const };
    const s = summarize(
      run,
      [
        progress('a', { planned: 10, done: 9, skipped: 1, remaining: 0 }),
        progress('b', { remaining: 0 }),
      ],
      new ThroughputTracker(),
      0,
    );
    expect(s.totals.percent).toBe(100);
    expect(s.totals.remaining).toBe(0);
    expect(s.active).toBe(false);
    expect(s.etaSeconds).toBeNull();
  });

  it('estimates rate and ETA from its samples', () => {
    const t = new ThroughputTracker();
    const run = { ...baseRun, databases: ['a'] };
    summarize(run, [progress('a', { planned: 1_000, done: 0 })], t, 0);
    const s = summarize(run, [progress('a', { planned: 1_000, done: 200 })], t, 2_000);
    expect(s.ratePerSecond).toBe(100);
    expect(s.etaSeconds).toBe(8);
  });

  it('has no ETA while a planner is still counting', () => {
    const t = new ThroughputTracker();
    summarize(baseRun, [progress('a', { planned: 1_000, done: 0 })], t, 0);
    const s = summarize(baseRun, [progress('a', { planned: 1_000, done: 200 })], t, 2_000);
    expect(s.databaseViews.find((d) => d.database === 'b')?.planning).toBe(true);
    expect(s.etaSeconds).toBeNull();
  });
});

describe('pausing', () => {
  it("follows the run's flag while the run is active", () => {
    expect(isPaused({ ...baseRun, paused: true })).toBe(true);
    expect(isPaused(baseRun)).toBe(false);
    expect(isPaused({ ...baseRun, phase: 'completed', paused: true })).toBe(false);
  });
});

describe('error classes', () => {
  it('keep a stable code or the error name, never the message', () => {
    expect(errorClass('kek home unreachable (KEK_UNAVAILABLE)', undefined)).toBe('KEK_UNAVAILABLE');
    expect(errorClass('connect ECONNREFUSED 10.1.2.3:5432', undefined)).toBe('ECONNREFUSED');
    expect(
      errorClass('something odd at db.internal:5432', ['StoreUnavailableError: x\n at y']),
    ).toBe('StoreUnavailableError');
    expect(errorClass('password=hunter2 rejected', [])).toBe('Error');
  });
});

describe('the run view', () => {
  it('groups failed DEKs by the codes the engine recorded', async () => {
    const stack = await openTestStack();
    try {
      const { run } = await stack.control.startRun({
        kekName: 'pii',
        databases: ['orders'],
        trigger: 't',
      });
      await stack.control.beginSweep(run.id, ['orders'], 0);
      await stack.control.checkpointPlanner(
        run.id,
        'orders',
        0,
        [{ start: '', end: null, planned: 10 }],
        null,
        true,
      );
      await stack.control.addProgress(run.id, 'orders', 0, '', {
        done: 5,
        skipped: 1,
        failed: 3,
        failures: { DECRYPTION_FAILED: 2, KEK_REF_DISABLED: 1 },
      });
      const view = await loadRunView(stack.backend, new ThroughputTracker(), run.id);
      expect(view?.errors).toEqual(
        expect.arrayContaining([
          { name: 'DECRYPTION_FAILED', count: 2, source: 'deks' },
          { name: 'KEK_REF_DISABLED', count: 1, source: 'deks' },
          { name: 'changed meanwhile (compare-and-swap conflict)', count: 1, source: 'deks' },
        ]),
      );
      expect(view?.errors.some((e) => e.name.startsWith('rewrap failed'))).toBe(false);
      expect(view?.totals).toMatchObject({ done: 5, skipped: 1, failed: 3, remaining: 1 });
    } finally {
      await stack.close();
    }
  });
});
