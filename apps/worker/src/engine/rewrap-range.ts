/**
 * The rewrap batch: one keyset range of one database, read in pages on the old refs, rewrapped,
 * and written back with compare-and-swap. A conflict (the row changed meanwhile) is counted as
 * skipped and never overwritten. The write of one page overlaps the read and crypto of the next.
 * Re-running a range after a crash changes nothing already done: its DEKs are no longer on the
 * old refs.
 */
import type { DekRecord, DekSwap } from '@rekey/crypto-core';

import { advanceRun } from './advance-run.ts';
import { databaseOf, type EngineContext, kekOf } from './engine-context.ts';
import type { RewrapJob } from './job-names.ts';
import { rewrapPage } from './rewrap-page.ts';

/** Rows read, rewrapped and written together; the range may hold several pages. */
const PAGE_SIZE = 1_000;

/** Asked between pages whether to stop early and release the range (worker shutting down). */
export interface RangeControl {
  readonly shouldStop: () => boolean;
  readonly signal?: AbortSignal;
}

/** What a range run did. */
export interface RangeOutcome {
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  /** True when it stopped early on request: the range stays pending. */
  readonly released: boolean;
  /** Why it stopped early: the worker is stopping, or an operator paused or cancelled the run. */
  readonly reason?: 'stopping' | 'paused' | 'cancelled';
}

/** Rewraps one range. Idempotent; throws retryable provider and store errors as they are. */
export async function rewrapRange(
  ctx: EngineContext,
  job: RewrapJob,
  control: RangeControl,
): Promise<RangeOutcome> {
  const outcome: { -readonly [K in keyof RangeOutcome]: RangeOutcome[K] } = {
    done: 0,
    skipped: 0,
    failed: 0,
    released: false,
  };
  const run = await ctx.control.getRun(job.runId);
  if (run === undefined || run.phase !== 'rewrapping' || run.sweep !== job.sweep) return outcome;
  if (run.paused) return { ...outcome, released: true, reason: 'paused' };
  const range = await ctx.control.getRange(job.runId, job.database, job.sweep, job.start);
  if (range?.inflight) await countCrashedWrite(ctx, job, range.inflight);
  const { store } = databaseOf(ctx, job.database);
  const { provider } = kekOf(ctx, job.kekName);
  const pacer = ctx.pacer(job.kekName);

  let lastPublish = 0;
  const record = async (
    swaps: DekSwap[],
    failureCodes: readonly string[],
    page: { after: string; until: string },
  ): Promise<void> => {
    // Intent first: if the process dies after the write commits but before its count is
    // recorded, the re-run counts what this write did (see countCrashedWrite).
    await ctx.control.markInflight(job.runId, job.database, job.sweep, job.start, page);
    const result =
      swaps.length === 0 ? { updated: [], conflicted: [] } : await store.compareAndSwap(swaps);
    const failures: Record<string, number> = {};
    for (const code of failureCodes) failures[code] = (failures[code] ?? 0) + 1;
    const delta = {
      done: result.updated.length,
      skipped: result.conflicted.length,
      failed: failureCodes.length,
      failures,
    };
    await ctx.control.addProgress(job.runId, job.database, job.sweep, job.start, delta);
    outcome.done += delta.done;
    outcome.skipped += delta.skipped;
    outcome.failed += delta.failed;
    if (Date.now() - lastPublish >= ctx.limits.progressIntervalMs) {
      lastPublish = Date.now();
      await publishProgress(ctx, job);
    }
  };

  let after: string | undefined = job.start === '' ? undefined : job.start;
  const scanAfter = (from: string | undefined): Promise<DekRecord[]> =>
    store.scan({
      kekName: job.kekName,
      kekRefs: job.fromRefs,
      ...(from === undefined ? {} : { after: from }),
      ...(job.end === null ? {} : { until: job.end }),
      limit: PAGE_SIZE,
    });
  // The next page is read while this one is rewrapped: pages are disjoint id ranges and a write
  // only moves rows off the old refs, so an earlier page's write never changes what it holds.
  let prefetched: Promise<DekRecord[]> | undefined;
  let writing: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      if (control.shouldStop()) {
        outcome.released = true;
        outcome.reason = 'stopping';
        break;
      }
      if (after !== undefined) {
        // An operator may pause or cancel the run between pages.
        const now = await ctx.control.getRun(job.runId);
        if (now?.paused === true || now?.phase !== 'rewrapping') {
          outcome.released = true;
          outcome.reason = now?.paused === true ? 'paused' : 'cancelled';
          break;
        }
      }
      const page = await (prefetched ?? scanAfter(after));
      prefetched = undefined;
      if (page.length === 0) break;
      if (page.length === PAGE_SIZE) {
        prefetched = scanAfter(page.at(-1)?.id);
        // Awaited on the next turn; a page never used (stop, pause, error) must not count as an
        // unhandled rejection.
        prefetched.catch(() => {});
      }
      const { swaps, failed, failureCodes } = await rewrapPage(
        page,
        provider,
        job.targetRef,
        pacer,
        ctx.limits.providerConcurrency,
        control.signal,
      );
      if (failed > 0) {
        ctx.logger.warn(
          {
            event: 'rewrap.failed-deks',
            runId: job.runId,
            database: job.database,
            failed,
            codes: [...new Set(failureCodes)],
          },
          'some DEKs cannot be rewrapped',
        );
      }
      await writing;
      writing = record(swaps, failureCodes, {
        after: after ?? '',
        until: page.at(-1)?.id as string,
      });
      // Handled when awaited; until then a failed write must not count as an unhandled rejection.
      writing.catch(() => {});
      after = page.at(-1)?.id;
      if (page.length < PAGE_SIZE) break;
    }
  } finally {
    // Never leave a write half-observed: the progress of a started write is always recorded.
    await writing.catch(() => {});
  }
  await writing;
  if (outcome.released) return outcome;

  await ctx.control.finishRange(job.runId, job.database, job.sweep, job.start, 'done');
  await publishProgress(ctx, job);
  await advanceRun(ctx, job.runId, job.sweep);
  return outcome;
}

/** Publishes the database's cumulative counts (not this batch's), read from the control store. */
async function publishProgress(ctx: EngineContext, job: RewrapJob): Promise<void> {
  const all = await ctx.control.getProgress(job.runId);
  const progress = all.find((p) => p.database === job.database);
  if (progress === undefined) return;
  await ctx.events.publish({
    type: 'progress',
    runId: job.runId,
    database: job.database,
    planned: progress.planned,
    done: progress.done,
    skipped: progress.skipped,
    failed: progress.failed,
    failures: progress.failures,
  });
}

/**
 * A previous attempt died between recording the intent to write a page and recording what the
 * write did. DEKs of that page now on the target were rewritten by it (the compare-and-swap
 * committed): count them, so `done` stays exact across crashes.
 */
async function countCrashedWrite(
  ctx: EngineContext,
  job: RewrapJob,
  page: { readonly after: string; readonly until: string },
): Promise<void> {
  const { store } = databaseOf(ctx, job.database);
  let counted = 0;
  let after: string | undefined = page.after === '' ? undefined : page.after;
  for (;;) {
    const found = await store.scan({
      kekName: job.kekName,
      kekRefs: [job.targetRef],
      ...(after === undefined ? {} : { after }),
      until: page.until,
      limit: PAGE_SIZE,
    });
    counted += found.length;
    if (found.length < PAGE_SIZE) break;
    after = found.at(-1)?.id;
  }
  await ctx.control.addProgress(job.runId, job.database, job.sweep, job.start, {
    done: counted,
    skipped: 0,
    failed: 0,
  });
}
