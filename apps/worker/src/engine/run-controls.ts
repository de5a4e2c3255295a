/**
 * Operator actions on a run (CLI, dashboard): pause, unpause, cancel, retry. Each is audited
 * with the actor. A paused run keeps its place: batches hand their range back at the next page
 * and look again every few seconds; unpausing re-enqueues its work at once.
 */
import type { RunRecord } from '../control/control-store.ts';
import { resumeRun } from './reconcile.ts';
import { type TriggerContext, triggerRotation } from './trigger-run.ts';

/** A run that does not exist, or whose phase does not allow the action. */
export class RunControlError extends Error {
  override readonly name = 'RunControlError';
  readonly code = 'RUN_CONTROL_REFUSED';
}

async function load(ctx: TriggerContext, runId: string): Promise<RunRecord> {
  const run = await ctx.control.getRun(runId);
  if (run === undefined) throw new RunControlError(`no run ${runId}`);
  return run;
}

async function audit(
  ctx: TriggerContext,
  run: RunRecord,
  actor: string,
  action: string,
): Promise<void> {
  await ctx.control.audit({
    actor,
    action,
    kekName: run.kekName,
    kekRef: run.targetRef,
    runId: run.id,
    detail: { phase: run.phase, sweep: run.sweep },
  });
}

/**
 * Pauses an active run.
 *
 * @throws {RunControlError} when the run is unknown or finished.
 */
export async function pauseRun(
  ctx: TriggerContext,
  runId: string,
  actor: string,
): Promise<RunRecord> {
  const run = await load(ctx, runId);
  if (run.phase === 'completed' || run.phase === 'failed') {
    throw new RunControlError(`run ${runId} is ${run.phase}`);
  }
  await ctx.control.updateRun(runId, { paused: true });
  await audit(ctx, run, actor, 'run.paused');
  return load(ctx, runId);
}

/**
 * Unpauses a run and re-enqueues its work.
 *
 * @throws {RunControlError} when the run is unknown.
 */
export async function unpauseRun(
  ctx: TriggerContext,
  runId: string,
  actor: string,
): Promise<RunRecord> {
  const run = await load(ctx, runId);
  await ctx.control.updateRun(runId, { paused: false });
  await audit(ctx, run, actor, 'run.unpaused');
  const current = await load(ctx, runId);
  await resumeRun(ctx, current);
  return current;
}

/**
 * Cancels an active run: it ends as `failed` with error `cancelled`. DEKs already rewrapped stay
 * on the target (both versions unwrap); a later run moves the rest.
 *
 * @throws {RunControlError} when the run is unknown or finished.
 */
export async function cancelRun(
  ctx: TriggerContext,
  runId: string,
  actor: string,
): Promise<RunRecord> {
  const run = await load(ctx, runId);
  if (run.phase === 'completed' || run.phase === 'failed') {
    throw new RunControlError(`run ${runId} is ${run.phase}`);
  }
  await ctx.control.updateRun(runId, {
    phase: 'failed',
    error: 'cancelled',
    finishedAt: new Date(),
    paused: false,
  });
  await audit(ctx, run, actor, 'run.cancelled');
  return load(ctx, runId);
}

/**
 * Retries a failed run with the same target: the run is reopened for another sweep (one run
 * per KEK name and target), or joins the KEK's active run if another started meanwhile.
 *
 * @throws {RunControlError} when the run is unknown, not failed, or never got a target.
 */
export async function retryRun(
  ctx: TriggerContext,
  runId: string,
  actor: string,
): Promise<{ run: RunRecord; joined: boolean }> {
  const run = await load(ctx, runId);
  if (run.phase !== 'failed' || run.targetRef === null) {
    throw new RunControlError(
      `run ${runId} is ${run.phase}${run.targetRef === null ? ' without a target' : ''}`,
    );
  }
  return triggerRotation(ctx, {
    kekName: run.kekName,
    databases: run.databases,
    targetRef: run.targetRef,
    trigger: `retry:${run.id}`,
    actor,
  });
}
