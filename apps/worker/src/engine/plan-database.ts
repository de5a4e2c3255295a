/**
 * The planner of one database in one sweep: pages DEK ids on old refs by keyset and cuts them
 * into ranges of `batchSize` DEKs, checkpointing ranges and cursor in the control store before
 * enqueueing them. A restarted planner re-enqueues the ranges it recorded (deterministic job
 * ids dedupe) and continues from the cursor, so no range is lost or cut twice, and the ranges
 * are never all in memory. Only ids are read where the store can scan by id alone.
 */
import type { DekScan, DekStore } from '@rekey/crypto-core';

import type { NewRange } from '../control/control-store.ts';
import { advanceRun } from './advance-run.ts';
import { databaseOf, type EngineContext } from './engine-context.ts';
import type { PlanJob, RewrapJob } from './job-names.ts';

/** Ranges recorded and enqueued together. */
const RANGES_PER_CHECKPOINT = 50;

/** Plans one database of one sweep of a run. Idempotent. */
export async function planDatabase(ctx: EngineContext, job: PlanJob): Promise<void> {
  const run = await ctx.control.getRun(job.runId);
  if (run === undefined || run.phase !== 'rewrapping' || run.sweep !== job.sweep) return;
  if (run.targetRef === null) return;
  const progress = (await ctx.control.getProgress(run.id)).find((p) => p.database === job.database);
  if (progress === undefined || progress.sweep !== job.sweep || progress.plannerDone) return;
  const { store } = databaseOf(ctx, job.database);

  let fromRefs = progress.fromRefs;
  if (progress.plannerCursor === null && fromRefs.length === 0) {
    const counts = await store.countByRef(run.kekName);
    fromRefs = counts.filter((c) => c.kekRef !== run.targetRef && c.count > 0).map((c) => c.kekRef);
    await ctx.control.setFromRefs(run.id, job.database, fromRefs);
  }
  const toJob = (start: string, end: string | null): RewrapJob => ({
    runId: run.id,
    database: job.database,
    sweep: job.sweep,
    kekName: run.kekName,
    targetRef: run.targetRef as string,
    fromRefs,
    start,
    end,
  });

  await requeueRecordedRanges(ctx, job, toJob);
  if (fromRefs.length === 0) {
    await ctx.control.checkpointPlanner(run.id, job.database, job.sweep, [], null, true);
    await advanceRun(ctx, run.id, job.sweep);
    return;
  }

  let cursor = progress.plannerCursor;
  let pending: NewRange[] = [];
  const limit = ctx.limits.batchSize;
  for (;;) {
    const page = await scanIds(store, {
      kekName: run.kekName,
      kekRefs: fromRefs,
      ...(cursor === null ? {} : { after: cursor }),
      limit,
    });
    const last = page.at(-1);
    const finished = page.length < limit;
    if (page.length > 0) {
      // The last range stays open-ended so DEKs written later above it are still covered.
      pending.push({
        start: cursor ?? '',
        end: finished ? null : (last as string),
        planned: page.length,
      });
      cursor = last as string;
    }
    if (pending.length >= RANGES_PER_CHECKPOINT || finished) {
      await ctx.control.checkpointPlanner(
        run.id,
        job.database,
        job.sweep,
        pending,
        cursor,
        finished,
      );
      await ctx.queues.addRewraps(
        job.database,
        pending.map((r) => toJob(r.start, r.end)),
      );
      pending = [];
    }
    if (finished) break;
  }
  ctx.logger.info(
    { event: 'plan.done', runId: run.id, database: job.database, sweep: job.sweep },
    'planned',
  );
  await advanceRun(ctx, run.id, job.sweep);
}

/**
 * One page of ids: from the store's id-only scan when it has one, which reads no wrapped bytes,
 * else from whole records (a store written before `scanIds`).
 */
async function scanIds(store: DekStore, query: DekScan): Promise<string[]> {
  if (store.scanIds !== undefined) return store.scanIds(query);
  const records = await store.scan(query);
  return records.map((r) => r.id);
}

async function requeueRecordedRanges(
  ctx: EngineContext,
  job: PlanJob,
  toJob: (start: string, end: string | null) => RewrapJob,
): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const ranges = await ctx.control.listPendingRanges(
      job.runId,
      job.database,
      job.sweep,
      after,
      500,
    );
    if (ranges.length === 0) return;
    await ctx.queues.addRewraps(
      job.database,
      ranges.map((r) => toJob(r.start, r.end)),
    );
    after = (ranges.at(-1) as { start: string }).start;
  }
}
