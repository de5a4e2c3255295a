/** @module `@rekey/worker/engine`: the rotation engine, its queues, events and triggers. */
export { createEngine, type Engine, type EngineParts } from './engine/create-engine.ts';
export type { EngineContext, EngineDatabase, EngineKek } from './engine/engine-context.ts';
export { DEFAULT_JOB_OPTIONS, EngineQueues } from './engine/engine-queues.ts';
export {
  batchQueueName,
  CONTROL_QUEUE,
  jobIds,
  type PlanJob,
  type PrepareJob,
  type RewrapJob,
  type RunStepJob,
} from './engine/job-names.ts';
export { eventsKey, type ProgressEvent, ProgressPublisher } from './engine/progress-events.ts';
export { reconcileRuns, resumeRun } from './engine/reconcile.ts';
export {
  assertNoEviction,
  type ConnectOptions,
  connectRedis,
  isCluster,
  type RedisConnection,
} from './engine/redis-connection.ts';
export { RotationWorker, type RotationWorkerOptions } from './engine/rotation-worker.ts';
export {
  cancelRun,
  pauseRun,
  RunControlError,
  retryRun,
  unpauseRun,
} from './engine/run-controls.ts';
export { prepareRun, retireRun, verifyRun } from './engine/run-steps.ts';
export {
  type RotationRequest,
  type TriggerContext,
  triggerRotation,
} from './engine/trigger-run.ts';
