/**
 * The operator's actions on runs: start, pause, resume, cancel, retry. Each is audited in the
 * control store with the caller's label.
 *
 * NOTE: the worker engine has no pause, cancel or retry of its own yet, so they are built here
 * from what it has: pause holds the BullMQ batch queues of the run's databases (which also holds
 * runs of other KEK names on those databases), cancel ends the run as `failed` with the error
 * `cancelled` (its queued jobs then do nothing: every step checks the run's phase first), and
 * retry triggers the KEK name again with the run's target, which reopens the run for a sweep.
 */
import { ACTIVE_PHASES, type RunRecord } from '@rekey/worker/control';
import type { DashboardBackend } from './dashboard-backend.ts';
import { isPaused } from './run-view.ts';

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
  const paused = isPaused(run, await backend.control.listAudit({ runId, limit: 200 }));
  const audit = (name: string, detail: Record<string, string | number | null> = {}) =>
    backend.control.audit({
      actor,
      action: name,
      kekName: run.kekName,
      kekRef: run.targetRef,
      runId: run.id,
      detail,
    });

  switch (action) {
    case 'pause': {
      if (!active) throw new ActionError(409, `run is ${run.phase}`);
      if (paused) throw new ActionError(409, 'run is already paused');
      await Promise.all(run.databases.map((d) => backend.queues.batch(d).pause()));
      await audit('run.paused', { databases: run.databases.length });
      return { run };
    }
    case 'resume': {
      if (!paused) throw new ActionError(409, 'run is not paused');
      await audit('run.resumed');
      await releaseQueues(backend, run);
      await backend.requeue(run);
      return { run };
    }
    case 'cancel': {
      if (!active) throw new ActionError(409, `run is ${run.phase}`);
      const patch = { phase: 'failed' as const, error: 'cancelled', finishedAt: new Date() };
      if (!(await backend.control.updateRun(run.id, patch, run.phase))) {
        throw new ActionError(409, 'run changed meanwhile; try again');
      }
      await audit('run.cancelled', { phase: run.phase });
      if (paused) await releaseQueues(backend, run);
      return { run: (await backend.control.getRun(run.id)) as RunRecord };
    }
    case 'retry': {
      if (run.phase !== 'failed') throw new ActionError(409, `run is ${run.phase}`);
      const result = await backend.trigger({
        kekName: run.kekName,
        databases: run.databases,
        ...(run.targetRef === null ? {} : { targetRef: run.targetRef }),
        trigger: 'dashboard:retry',
        actor,
      });
      await audit('run.retried', { into: result.run.id === run.id ? null : result.run.id });
      return result;
    }
  }
}

/** Resumes the batch queues of a run's databases that no other paused run still holds. */
async function releaseQueues(backend: DashboardBackend, run: RunRecord): Promise<void> {
  const held = new Set<string>();
  for (const other of await backend.control.listRuns({ activeOnly: true, limit: 1000 })) {
    if (other.id === run.id) continue;
    const audit = await backend.control.listAudit({ runId: other.id, limit: 200 });
    if (isPaused(other, audit)) for (const d of other.databases) held.add(d);
  }
  await Promise.all(
    run.databases.filter((d) => !held.has(d)).map((d) => backend.queues.batch(d).resume()),
  );
}
