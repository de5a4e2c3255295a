/**
 * Rebuilds the queue items of active runs from the control store. Every job id is deterministic,
 * so re-adding jobs that still exist changes nothing; after a Redis loss it resumes every run
 * where its durable record says it stands.
 */
import type { ControlStore, RunRecord } from '../control/control-store.ts';
import type { EngineQueues } from './engine-queues.ts';
import type { RewrapJob } from './job-names.ts';

/** What reconciling needs. */
export interface ReconcileContext {
  readonly control: ControlStore;
  readonly queues: EngineQueues;
}

/** Re-enqueues the work of every active run, and the retire step of completed ones. */
export async function reconcileRuns(ctx: ReconcileContext): Promise<number> {
  const runs = await ctx.control.listRuns({ activeOnly: true, limit: 1000 });
  for (const run of runs) await resumeRun(ctx, run);
  const recent = await ctx.control.listRuns({ limit: 50 });
  for (const run of recent) {
    if (run.phase === 'completed' && run.retireAt !== null && run.retiredAt === null) {
      await ctx.queues.addRetire(
        { runId: run.id, sweep: run.sweep },
        Math.max(0, run.retireAt.getTime() - Date.now()),
      );
    }
  }
  return runs.length;
}

/** Re-enqueues the work of one run according to its phase. */
export async function resumeRun(ctx: ReconcileContext, run: RunRecord): Promise<void> {
  if (run.phase === 'preparing') {
    await ctx.queues.addPrepare({ runId: run.id }, run.sweep);
    return;
  }
  if (run.phase === 'verifying') {
    await ctx.queues.addVerify({ runId: run.id, sweep: run.sweep });
    return;
  }
  if (run.phase !== 'rewrapping' || run.targetRef === null) return;

  const progress = await ctx.control.getProgress(run.id);
  let open = 0;
  for (const p of progress) {
    if (p.sweep !== run.sweep) continue;
    if (!p.plannerDone) {
      open++;
      await ctx.queues.addPlan({ runId: run.id, database: p.database, sweep: run.sweep });
    }
    let after: string | null = null;
    for (;;) {
      const ranges = await ctx.control.listPendingRanges(run.id, p.database, run.sweep, after, 500);
      if (ranges.length === 0) break;
      open += ranges.length;
      const jobs = ranges.map(
        (r): RewrapJob => ({
          runId: run.id,
          database: p.database,
          sweep: run.sweep,
          kekName: run.kekName,
          targetRef: run.targetRef as string,
          fromRefs: p.fromRefs,
          start: r.start,
          end: r.end,
        }),
      );
      await ctx.queues.addRewraps(p.database, jobs);
      after = (ranges.at(-1) as { start: string }).start;
    }
  }
  // Nothing open but still rewrapping: the step that moves it on was lost; verify decides.
  if (open === 0 && (await ctx.control.updateRun(run.id, { phase: 'verifying' }, 'rewrapping'))) {
    await ctx.queues.addVerify({ runId: run.id, sweep: run.sweep });
  }
}
