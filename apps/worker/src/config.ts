/** @module `@rekey/worker/config`: loading and validating the worker configuration. */
export {
  ConfigProblemsError,
  findConfigPath,
  loadConfigFile,
  parseConfig,
} from './config/load-config.ts';
export { isSecretRef, readSecret, Secret, type SecretRef } from './config/secret.ts';
export {
  BUILT_IN_ADAPTERS,
  BUILT_IN_PROVIDERS,
  type ControlConfig,
  type DatabaseConfig,
  type KekConfig,
  type LimitsConfig,
  type RedisConfig,
  revealed,
  type ScheduleConfig,
  type WorkerConfig,
} from './config/worker-config.ts';
