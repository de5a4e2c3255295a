/** @module `@rekey/worker/control`: the durable control store (runs, progress, audit). */
export {
  ACTIVE_PHASES,
  type AuditRecord,
  type ControlStore,
  type DatabaseProgress,
  type NewRange,
  type ProgressDelta,
  type RangeRecord,
  type RunPatch,
  type RunPhase,
  type RunRecord,
  type StartRunInput,
} from './control/control-store.ts';
export { openControlStore } from './control/open-control-store.ts';
export { SqlControlStore } from './control/sql-control-store.ts';
export { postgresDriver, type SqlDriver } from './control/sql-driver.ts';
export { sqliteDriver } from './control/sqlite-driver.ts';
