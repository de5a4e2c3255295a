/** Moves a run from rewrapping to verifying once its sweep has no open work. */
import type { EngineContext } from './engine-context.ts';

/**
 * Enqueues the verify step when every planner of the sweep is done and no range is pending.
 * Only the caller that wins the phase change enqueues; the job id dedupes anyway.
 */
export async function advanceRun(ctx: EngineContext, runId: string, sweep: number): Promise<void> {
  const work = await ctx.control.openWork(runId, sweep);
  if (work.pendingRanges > 0 || work.planning > 0) return;
  const run = await ctx.control.getRun(runId);
  if (run === undefined || run.sweep !== sweep) return;
  if (run.phase === 'rewrapping') {
    if (!(await ctx.control.updateRun(runId, { phase: 'verifying' }, 'rewrapping'))) return;
    await ctx.events.publish({ type: 'phase', runId, phase: 'verifying' });
  } else if (run.phase !== 'verifying') {
    return;
  }
  await ctx.queues.addVerify({ runId, sweep });
}
