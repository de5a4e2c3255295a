/**
 * The operator's actions on runs: start, pause, resume, cancel, retry, through the worker
 * engine's run controls (which audit each with the caller's label). The dashboard checks the
 * run's state first so that a refusal is a clear 404 or 409.
 */
import { ACTIVE_PHASES, type RunRecord } from '@rekey/worker/control';

import type { DashboardBackend } from './dashboard-backend.ts';

/** Why an action cannot be done; maps to an HTTP status. */
export class ActionError extends Error {
  override readonly name = 'ActionError';
  readonly status: 400 | 404 | 409;
  constructor(status: 400 | 404 | 409, message: string) {
    super(message);
    this.status = status;
  }
}

/** The run actions an operator can take. */
export type RunAction = 'pause' | 'resume' | 'cancel' | 'retry';

/** The outcome of an action: the run it touched, and whether a start joined an active run. */
export interface ActionResult {
  readonly run: RunRecord;
  readonly joined?: boolean;
}

/**
 * Starts a rotation of `kekName` on every configured database (or joins the active run).
 *
 * @throws {ActionError} 400 when the KEK name is not configured.
 */
export async function startRotation(
  backend: DashboardBackend,
  kekName: string,
  actor: string,
): Promise<ActionResult> {
  if (!backend.keks.some((k) => k.name === kekName)) {
    throw new ActionError(400, `kek not configured: ${kekName}`);
  }
  return backend.trigger({
    kekName,
    databases: backend.databases.map((d) => d.name),
    trigger: 'dashboard',
    actor,
  });
}

/**
 * Applies `action` to the run `runId`.
 *
 * @throws {ActionError} 404 for an unknown run, 409 when the run's state does not allow it.
 */
export async function applyRunAction(
  backend: DashboardBackend,
  runId: string,
  action: RunAction,
  actor: string,
): Promise<ActionResult> {
  const run = await backend.control.getRun(runId);
  if (run === undefined) throw new ActionError(404, 'run not found');
  const active = ACTIVE_PHASES.includes(run.phase);
  const refuse = (why: string): never => {
    throw new ActionError(409, why);
  };

  try {
    switch (action) {
      case 'pause':
        if (!active) refuse(`run is ${run.phase}`);
        if (run.paused) refuse('run is already paused');
        return { run: await backend.controls.pause(runId, actor) };
      case 'resume':
        if (!active || !run.paused) refuse('run is not paused');
        return { run: await backend.controls.unpause(runId, actor) };
      case 'cancel':
        if (!active) refuse(`run is ${run.phase}`);
        return { run: await backend.controls.cancel(runId, actor) };
      case 'retry':
        if (run.phase !== 'failed') refuse(`run is ${run.phase}`);
        return await backend.controls.retry(runId, actor);
    }
  } catch (error) {
    // The engine re-checks under its own rules (a run that finished meanwhile, no target yet).
    if ((error as { code?: unknown }).code === 'RUN_CONTROL_REFUSED') {
      throw new ActionError(409, 'the run no longer allows this action');
    }
    throw error;
  }
}
