/**
 * Queue names, job names, job data and deterministic job ids. Job data carries ids, ranges, refs
 * and counts only (about 100 bytes a batch job), never key material. BullMQ job ids may not
 * contain `:`, so the parts are joined with `.`.
 */

/** The queue of run steps: prepare, plan, verify, retire, scheduled rotations. */
export const CONTROL_QUEUE = 'control';

/** The queue of rewrap batches of one database (its global concurrency is the database's). */
export function batchQueueName(database: string): string {
  return `batch.${database}`;
}

/** Data of a `prepare` job. */
export interface PrepareJob {
  readonly runId: string;
}

/** Data of a `plan` job: cut one database into ranges for one sweep of a run. */
export interface PlanJob {
  readonly runId: string;
  readonly database: string;
  readonly sweep: number;
}

/** Data of a `verify` or `retire` job. */
export interface RunStepJob {
  readonly runId: string;
  readonly sweep: number;
}

/** Data of a `scheduled-rotate` job, produced by a job scheduler. */
export interface ScheduledRotateJob {
  readonly kekName: string;
}

/** Data of a `rewrap` job: one keyset range `start < id <= end` of one database. */
export interface RewrapJob {
  readonly runId: string;
  readonly database: string;
  readonly sweep: number;
  readonly kekName: string;
  readonly targetRef: string;
  readonly fromRefs: readonly string[];
  /** Exclusive lower bound; `''` from the first id. */
  readonly start: string;
  /** Inclusive upper bound; `null` to the last id. */
  readonly end: string | null;
}

/** Job ids: the same step of the same run always gets the same id, so re-adding dedupes. */
export const jobIds = {
  prepare: (runId: string, sweep: number): string => `prepare.${runId}.${sweep}`,
  plan: (runId: string, database: string, sweep: number): string =>
    `plan.${runId}.${database}.${sweep}`,
  rewrap: (runId: string, sweep: number, start: string): string =>
    `rewrap.${runId}.${sweep}.${start === '' ? 'first' : start}`,
  verify: (runId: string, sweep: number): string => `verify.${runId}.${sweep}`,
  retire: (runId: string): string => `retire.${runId}`,
  schedule: (kekName: string): string => `schedule.${kekName}`,
};
