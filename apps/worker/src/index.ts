/**
 * @module
 * `@rekey/worker`: the BullMQ rotation runner and the `rekey` CLI (Node only). Subpaths:
 * `./config`, `./control`, `./engine`, `./plugins`, `./cli`.
 */

export { runCli } from './cli/run-cli.ts';
export {
  ConfigProblemsError,
  findConfigPath,
  loadConfigFile,
  parseConfig,
} from './config/load-config.ts';
export { Secret, type SecretRef } from './config/secret.ts';
export type {
  ControlConfig,
  DatabaseConfig,
  KekConfig,
  LimitsConfig,
  ScheduleConfig,
  WorkerConfig,
} from './config/worker-config.ts';
export type { ControlStore, RunRecord } from './control/control-store.ts';
export { openControlStore } from './control/open-control-store.ts';
export { createEngine, type Engine, type EngineParts } from './engine/create-engine.ts';
export type { EngineContext } from './engine/engine-context.ts';
export { eventsKey, type ProgressEvent } from './engine/progress-events.ts';
export {
  assertNoEviction,
  type ConnectOptions,
  connectRedis,
  isCluster,
  type RedisConnection,
} from './engine/redis-connection.ts';
export { RotationWorker, type RotationWorkerOptions } from './engine/rotation-worker.ts';
export { type RotationRequest, triggerRotation } from './engine/trigger-run.ts';
export { createLogger } from './logger.ts';
