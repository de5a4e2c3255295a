/**
 * The steps of a run around the rewrap batches: prepare (rotate or take the target), verify
 * (count DEKs on old versions everywhere, sweep stragglers), retire (disable old versions after
 * the grace period, never destroy). Each step is idempotent and checks the run's phase first.
 */
import { hasErrorCode, type KekProvider } from '@rekey/crypto-core';

import type { RunRecord } from '../control/control-store.ts';
import { databaseOf, type EngineContext, kekOf } from './engine-context.ts';
import type { PrepareJob, RunStepJob } from './job-names.ts';
import { pacedProvider } from './paced-provider.ts';

/** DEKs on the target unwrapped per database by verify, as a sample. */
const VERIFY_SAMPLE = 5;

/** Rotates the KEK (or checks the given target), then fans out one planner per database. */
export async function prepareRun(ctx: EngineContext, job: PrepareJob): Promise<void> {
  let run = await ctx.control.getRun(job.runId);
  if (run === undefined || run.phase !== 'preparing') return;
  const provider = pacedProvider(kekOf(ctx, run.kekName).provider, ctx.pacer(run.kekName));

  if (run.targetRef === null) {
    const target = await rotateOnce(ctx, run, provider);
    await ctx.control.updateRun(run.id, { targetRef: target });
  } else {
    const version = (await provider.describe(run.kekName)).find((v) => v.ref === run?.targetRef);
    if (version === undefined || version.state === 'disabled') {
      await failRun(ctx, run, `target ${run.targetRef} is unknown or disabled`);
      return;
    }
  }
  run = (await ctx.control.getRun(run.id)) as RunRecord;
  await ctx.control.beginSweep(run.id, run.databases, run.sweep);
  if (!(await ctx.control.updateRun(run.id, { phase: 'rewrapping' }, 'preparing'))) return;
  for (const database of run.databases) {
    await ctx.queues.addPlan({ runId: run.id, database, sweep: run.sweep });
  }
  await ctx.control.audit({
    actor: 'worker',
    action: 'run.started',
    kekName: run.kekName,
    kekRef: run.targetRef,
    runId: run.id,
    detail: { databases: run.databases.length, sweep: run.sweep },
  });
  await ctx.events.publish({ type: 'phase', runId: run.id, phase: 'rewrapping' });
  ctx.logger.info(
    {
      event: 'run.started',
      runId: run.id,
      kekName: run.kekName,
      targetRef: run.targetRef,
      databases: run.databases.length,
    },
    'rotation run started',
  );
}

/**
 * Rotates at most once per run: the primary before rotating is recorded first, so a retried
 * prepare that finds the primary already moved takes the new primary instead of rotating again.
 */
async function rotateOnce(
  ctx: EngineContext,
  run: RunRecord,
  provider: KekProvider,
): Promise<string> {
  const current = await primaryOrNone(provider, run.kekName);
  if (run.previousRef === null) {
    await ctx.control.updateRun(run.id, { previousRef: current });
  } else if (current !== run.previousRef) {
    return current;
  }
  const version = await provider.rotate(run.kekName);
  await ctx.control.audit({
    actor: 'worker',
    action: 'kek.rotated',
    kekName: run.kekName,
    kekRef: version.ref,
    runId: run.id,
    detail: { previous: current === '' ? null : current },
  });
  return version.ref;
}

async function primaryOrNone(provider: KekProvider, kekName: string): Promise<string> {
  try {
    return await provider.primary(kekName);
  } catch (error) {
    if (hasErrorCode(error, 'KEK_REF_UNKNOWN')) return '';
    throw error;
  }
}

/**
 * Counts DEKs on old versions in every database and unwraps a sample on the target. Zero
 * everywhere completes the run; otherwise a new sweep plans the stragglers, up to `maxSweeps`.
 */
export async function verifyRun(ctx: EngineContext, job: RunStepJob): Promise<void> {
  const run = await ctx.control.getRun(job.runId);
  if (run === undefined || run.phase !== 'verifying' || run.sweep !== job.sweep) return;
  const provider = pacedProvider(kekOf(ctx, run.kekName).provider, ctx.pacer(run.kekName));
  const target = run.targetRef as string;

  const behind: string[] = [];
  let remainingTotal = 0;
  let sampleFailures = 0;
  for (const database of run.databases) {
    const { store } = databaseOf(ctx, database);
    const counts = await store.countByRef(run.kekName);
    const remaining = counts.filter((c) => c.kekRef !== target).reduce((n, c) => n + c.count, 0);
    await ctx.control.setRemaining(run.id, database, remaining);
    if (remaining > 0) behind.push(database);
    remainingTotal += remaining;
    const sample = await store.scan({
      kekName: run.kekName,
      kekRefs: [target],
      limit: VERIFY_SAMPLE,
    });
    for (const r of sample) {
      try {
        const binding = { dekId: r.id, scope: r.scope, kekName: r.kekName };
        (await provider.unwrap({ kekRef: r.kekRef, bytes: r.wrapped }, binding)).fill(0);
      } catch {
        sampleFailures++;
      }
    }
  }

  if (sampleFailures > 0) {
    await failRun(ctx, run, `${sampleFailures} sampled DEKs on the target do not unwrap`);
    return;
  }
  if (remainingTotal === 0) {
    await completeRun(ctx, run);
    return;
  }
  if (run.sweep + 1 >= ctx.limits.maxSweeps) {
    await failRun(
      ctx,
      run,
      `${remainingTotal} DEKs remain on old versions after ${run.sweep + 1} sweeps`,
    );
    return;
  }
  const sweep = run.sweep + 1;
  await ctx.control.beginSweep(run.id, behind, sweep);
  if (!(await ctx.control.updateRun(run.id, { sweep, phase: 'rewrapping' }, 'verifying'))) return;
  ctx.logger.info(
    {
      event: 'run.sweep',
      runId: run.id,
      sweep,
      remaining: remainingTotal,
      databases: behind.length,
    },
    'sweeping stragglers',
  );
  for (const database of behind) {
    await ctx.queues.addPlan({ runId: run.id, database, sweep }, ctx.limits.sweepDelayMs);
  }
}

async function completeRun(ctx: EngineContext, run: RunRecord): Promise<void> {
  const { retireAfterMs } = kekOf(ctx, run.kekName);
  const now = new Date();
  const retireAt = retireAfterMs === undefined ? null : new Date(now.getTime() + retireAfterMs);
  const patch = {
    phase: 'completed' as const,
    finishedAt: now,
    ...(retireAt === null ? {} : { retireAt }),
  };
  if (!(await ctx.control.updateRun(run.id, patch, 'verifying'))) return;
  const progress = await ctx.control.getProgress(run.id);
  const totals = progress.reduce(
    (t, p) => ({
      done: t.done + p.done,
      skipped: t.skipped + p.skipped,
      failed: t.failed + p.failed,
    }),
    { done: 0, skipped: 0, failed: 0 },
  );
  await ctx.control.audit({
    actor: 'worker',
    action: 'run.completed',
    kekName: run.kekName,
    kekRef: run.targetRef,
    runId: run.id,
    detail: { ...totals, sweeps: run.sweep + 1 },
  });
  if (retireAt !== null)
    await ctx.queues.addRetire({ runId: run.id, sweep: run.sweep }, retireAfterMs as number);
  await ctx.events.publish({ type: 'phase', runId: run.id, phase: 'completed', ...totals });
  ctx.logger.info(
    { event: 'run.completed', runId: run.id, kekName: run.kekName, ...totals },
    'rotation run completed',
  );
}

/** Marks a run failed with a message of ids and counts. */
export async function failRun(ctx: EngineContext, run: RunRecord, reason: string): Promise<void> {
  if (
    !(await ctx.control.updateRun(run.id, {
      phase: 'failed',
      finishedAt: new Date(),
      error: reason,
    }))
  ) {
    return;
  }
  await ctx.control.audit({
    actor: 'worker',
    action: 'run.failed',
    kekName: run.kekName,
    kekRef: run.targetRef,
    runId: run.id,
    detail: { reason },
  });
  await ctx.events.publish({ type: 'phase', runId: run.id, phase: 'failed' });
  ctx.logger.error(
    { event: 'run.failed', runId: run.id, kekName: run.kekName, reason },
    'rotation run failed',
  );
}

/**
 * Disables every version of the KEK name other than the target once the grace period is over,
 * each only if no database still holds a DEK on it. Material is never destroyed.
 */
export async function retireRun(ctx: EngineContext, job: RunStepJob): Promise<void> {
  const run = await ctx.control.getRun(job.runId);
  if (run === undefined || run.phase !== 'completed' || run.retiredAt !== null) return;
  if (run.retireAt === null || run.retireAt.getTime() > Date.now()) return;
  const provider = pacedProvider(kekOf(ctx, run.kekName).provider, ctx.pacer(run.kekName));
  const versions = await provider.describe(run.kekName);
  const primary = await provider.primary(run.kekName);
  for (const v of versions) {
    if (v.ref === run.targetRef || v.ref === primary || v.state === 'disabled') continue;
    if ((await referencesOf(ctx, run.kekName, v.ref)) > 0) continue;
    await provider.disable(v.ref);
    await ctx.control.audit({
      actor: 'worker',
      action: 'kek.retired',
      kekName: run.kekName,
      kekRef: v.ref,
      runId: run.id,
      detail: {},
    });
    ctx.logger.info(
      { event: 'kek.retired', runId: run.id, kekRef: v.ref },
      'old KEK version disabled',
    );
  }
  await ctx.control.updateRun(run.id, { retiredAt: new Date() });
}

/** DEKs that still reference `kekRef` in every configured database. */
export async function referencesOf(
  ctx: EngineContext,
  kekName: string,
  kekRef: string,
): Promise<number> {
  let total = 0;
  for (const db of ctx.databases.values()) {
    const counts = await db.store.countByRef(kekName);
    total += counts.find((c) => c.kekRef === kekRef)?.count ?? 0;
  }
  return total;
}
