/**
 * Starting a run: from the CLI, a schedule or the dashboard. A second trigger for a KEK name
 * with an active run joins that run, and re-enqueues its work (which resumes it after a Redis
 * loss).
 */
import type { ControlStore, RunRecord } from '../control/control-store.ts';
import type { EngineQueues } from './engine-queues.ts';
import { resumeRun } from './reconcile.ts';

/** What a trigger needs: the durable store and the queues. */
export interface TriggerContext {
  readonly control: ControlStore;
  readonly queues: EngineQueues;
}

/** A request to rotate one KEK name. */
export interface RotationRequest {
  readonly kekName: string;
  readonly databases: readonly string[];
  /** Take this version as the target instead of rotating. */
  readonly targetRef?: string;
  /** `cli`, `schedule:<slot>`, `dashboard:<user>`, ... */
  readonly trigger: string;
  /** Who asked, for the audit record. */
  readonly actor: string;
}

/** Starts a run or joins the active one, and makes sure its work is queued. */
export async function triggerRotation(
  ctx: TriggerContext,
  request: RotationRequest,
): Promise<{ run: RunRecord; joined: boolean }> {
  const result = await ctx.control.startRun({
    kekName: request.kekName,
    databases: request.databases,
    trigger: request.trigger,
    ...(request.targetRef === undefined ? {} : { targetRef: request.targetRef }),
  });
  await ctx.control.audit({
    actor: request.actor,
    action: result.joined ? 'run.joined' : 'run.requested',
    kekName: request.kekName,
    kekRef: request.targetRef ?? null,
    runId: result.run.id,
    detail: { trigger: request.trigger, databases: request.databases.length },
  });
  await resumeRun(ctx, result.run);
  return result;
}
