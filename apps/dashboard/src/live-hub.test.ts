import { ProgressPublisher } from '@rekey/worker/engine';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LiveHub, type LiveMessage } from './live-hub.ts';
import type { RunSummary } from './run-view.ts';
import { openTestStack, REDIS_URL, type TestStack } from './testing/test-stack.ts';

let stack: TestStack;
let hub: LiveHub;
let publisher: ProgressPublisher;
const redis = new Redis(REDIS_URL);

beforeAll(async () => {
  stack = await openTestStack({ deks: 5 });
  // Only engine events drive the hub here: the poll is too slow to matter.
  hub = new LiveHub(stack.backend, { pollMs: 600_000, overviewMs: 600_000, coalesceMs: 20 });
  publisher = new ProgressPublisher(redis, stack.prefix);
});

afterAll(async () => {
  hub?.close();
  redis.disconnect();
  await stack?.close();
});

async function until<T>(read: () => T | undefined, limitMs = 10_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`condition not met in time: ${String(read)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the live hub', () => {
  it('turns engine events into absolute run state for the run and overview topics', async () => {
    const { run } = await stack.control.startRun({
      kekName: 'pii',
      databases: ['orders'],
      trigger: 'test',
    });
    await stack.control.updateRun(run.id, { targetRef: 'memory:pii/v2', phase: 'rewrapping' });
    await stack.control.beginSweep(run.id, ['orders'], 0);
    await stack.control.checkpointPlanner(
      run.id,
      'orders',
      0,
      [{ start: '', end: null, planned: 5 }],
      null,
      true,
    );

    const onRun: LiveMessage[] = [];
    const onOverview: LiveMessage[] = [];
    const stopRun = hub.subscribe(`run:${run.id}`, (m) => onRun.push(m));
    const stopOverview = hub.subscribe('overview', (m) => onOverview.push(m));

    await stack.control.addProgress(run.id, 'orders', 0, '', { done: 3, skipped: 0, failed: 0 });
    // The event itself carries a sampled delta; the hub re-reads the control store instead.
    await publisher.publish({
      type: 'progress',
      runId: run.id,
      database: 'orders',
      done: 1,
      skipped: 0,
      failed: 0,
    });
    const first = await until(() => onRun.find((m) => (m.data as RunSummary).totals.done === 3));
    expect(first.event).toBe('run');
    const summary = await until(() => onOverview.find((m) => (m.data as RunSummary).id === run.id));
    expect((summary.data as RunSummary).totals).toMatchObject({
      done: 3,
      planned: 5,
      remaining: 2,
    });

    await stack.control.addProgress(run.id, 'orders', 0, '', { done: 2, skipped: 0, failed: 0 });
    await publisher.publish({
      type: 'progress',
      runId: run.id,
      database: 'orders',
      done: 0,
      skipped: 0,
      failed: 0,
    });
    const second = await until(() => onRun.find((m) => (m.data as RunSummary).totals.done === 5));

    // Resuming after the first message yields exactly the later ones; an unknown id yields none.
    const missed = hub.missedSince(`run:${run.id}`, first.id);
    expect(missed?.map((m) => m.id)).toEqual(
      onRun.slice(onRun.indexOf(first) + 1).map((m) => m.id),
    );
    expect(missed?.at(-1)?.id).toBe(second.id);
    expect(hub.missedSince(`run:${run.id}`, hub.currentId())).toEqual([]);
    expect(hub.missedSince(`run:${run.id}`, 'deadbeef.1')).toBeUndefined();
    expect(hub.missedSince(`run:${run.id}`, 'garbage')).toBeUndefined();
    stopRun();
    stopOverview();
  });

  it('sends nothing when a re-read finds nothing changed', async () => {
    const { run } = await stack.control.startRun({
      kekName: 'other',
      databases: ['orders'],
      trigger: 'test',
    });
    const seen: LiveMessage[] = [];
    const stop = hub.subscribe(`run:${run.id}`, (m) => seen.push(m));
    await hub.poke(run.id);
    await hub.poke(run.id);
    await hub.poke(run.id);
    expect(seen).toHaveLength(1);
    stop();
  });
});
