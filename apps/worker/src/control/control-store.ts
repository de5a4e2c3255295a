/**
 * The control store: the durable record of rotation runs, per-database progress, planned ranges
 * and audit. It is what survives a Redis loss: the engine rebuilds every queue item from it.
 * It holds ids, refs, cursors and counts only, never key material.
 */

/** Where a run is in its life. Active phases: `preparing`, `rewrapping`, `verifying`. */
export type RunPhase = 'preparing' | 'rewrapping' | 'verifying' | 'completed' | 'failed';

/** The phases of a run that still has work. */
export const ACTIVE_PHASES: readonly RunPhase[] = ['preparing', 'rewrapping', 'verifying'];

/** One rotation run of one KEK name to one target version. */
export interface RunRecord {
  readonly id: string;
  readonly kekName: string;
  /** The version every DEK moves to; `null` while preparing a rotation. */
  readonly targetRef: string | null;
  /** The primary before the run rotated it (to make a retried prepare idempotent). */
  readonly previousRef: string | null;
  readonly phase: RunPhase;
  readonly databases: readonly string[];
  /** What started it: `cli`, `schedule:<slot>`, `dashboard`, ... */
  readonly trigger: string;
  /** 0 for the first pass; each straggler sweep adds one. */
  readonly sweep: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
  /** A short error code or message without key material, when failed. */
  readonly error: string | null;
  /** When old versions may be disabled (retire configured), else `null`. */
  readonly retireAt: Date | null;
  readonly retiredAt: Date | null;
  /** Paused by an operator: batches hand their range back and wait until resumed. */
  readonly paused: boolean;
}

/** The fields of a run that change as it advances. */
export type RunPatch = Partial<
  Pick<
    RunRecord,
    | 'targetRef'
    | 'previousRef'
    | 'phase'
    | 'sweep'
    | 'finishedAt'
    | 'error'
    | 'retireAt'
    | 'retiredAt'
    | 'paused'
  >
>;

/** Progress of one run in one database. Counts cover every sweep of the run. */
export interface DatabaseProgress {
  readonly runId: string;
  readonly database: string;
  readonly sweep: number;
  /** Last DEK id the planner has turned into ranges; `null` before the first range. */
  readonly plannerCursor: string | null;
  readonly plannerDone: boolean;
  /** The old refs this sweep rewraps from in this database, as the planner found them. */
  readonly fromRefs: readonly string[];
  /** DEKs on old versions the planner found, summed over sweeps. */
  readonly planned: number;
  /** DEKs rewrapped to the target. */
  readonly done: number;
  /** DEKs that changed meanwhile (compare-and-swap conflict): left alone, not overwritten. */
  readonly skipped: number;
  /** DEKs whose rewrap failed for good (bad bytes, disabled version). */
  readonly failed: number;
  /** Failed DEKs by error code (`DECRYPTION_FAILED`, `KEK_REF_DISABLED`, ...). */
  readonly failures: Readonly<Record<string, number>>;
  /** DEKs still on old versions at the last verify, `null` before one. */
  readonly remaining: number | null;
  readonly startedAt: Date;
  readonly updatedAt: Date;
}

/** A keyset range `start < id <= end` of one database, as the planner cut it. */
export interface RangeRecord {
  readonly runId: string;
  readonly database: string;
  readonly sweep: number;
  /** Exclusive lower bound; `''` means from the first id. */
  readonly start: string;
  /** Inclusive upper bound; `null` means to the last id. */
  readonly end: string | null;
  readonly planned: number;
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  readonly status: 'pending' | 'done' | 'failed';
  /**
   * The page being written, `after < id <= until`, between the intent and its recorded result;
   * a crash in between leaves it set, so the re-run can count what that write did.
   */
  readonly inflight: { readonly after: string; readonly until: string } | null;
}

/** A new range for the planner to record. */
export interface NewRange {
  readonly start: string;
  readonly end: string | null;
  readonly planned: number;
}

/** Counts to add to a range and its database. */
export interface ProgressDelta {
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  /** Failed DEKs of this delta by error code. */
  readonly failures?: Readonly<Record<string, number>>;
}

/** Who did what, when: one audit line. `detail` holds ids, refs and counts only. */
export interface AuditRecord {
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly kekName: string | null;
  readonly kekRef: string | null;
  readonly runId: string | null;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

/** A request to start (or join) a run. */
export interface StartRunInput {
  readonly kekName: string;
  /** A given target version; absent to rotate the KEK in prepare. */
  readonly targetRef?: string;
  readonly databases: readonly string[];
  readonly trigger: string;
}

/** The durable store behind the engine. Every method is one transaction. */
export interface ControlStore {
  /** Creates or brings forward the tables. Idempotent and safe to run from several workers. */
  migrate(): Promise<void>;

  /**
   * Starts a run, or joins the active run of the KEK name (and a given target's existing run):
   * there is at most one active run per KEK name and one run per KEK name and target.
   */
  startRun(input: StartRunInput): Promise<{ run: RunRecord; joined: boolean }>;

  getRun(id: string): Promise<RunRecord | undefined>;

  /** Runs, newest first. */
  listRuns(options?: {
    kekName?: string;
    activeOnly?: boolean;
    limit?: number;
  }): Promise<RunRecord[]>;

  /** Applies a patch; with `expectPhase`, only when the run is still in that phase. */
  updateRun(id: string, patch: RunPatch, expectPhase?: RunPhase): Promise<boolean>;

  /** Creates or resets the progress rows of a sweep (planner cursor back to the start). */
  beginSweep(runId: string, databases: readonly string[], sweep: number): Promise<void>;

  getProgress(runId: string): Promise<DatabaseProgress[]>;

  /** Stores the old refs a sweep rewraps from in one database. */
  setFromRefs(runId: string, database: string, refs: readonly string[]): Promise<void>;

  /**
   * Records planned ranges (ignoring ones already recorded) and moves the planner cursor, in one
   * transaction, so a planner restarted from the cursor never loses or doubles a range.
   */
  checkpointPlanner(
    runId: string,
    database: string,
    sweep: number,
    ranges: readonly NewRange[],
    cursor: string | null,
    done: boolean,
  ): Promise<void>;

  /** Pending ranges of a sweep after `after` (by start), at most `limit`, for re-enqueueing. */
  listPendingRanges(
    runId: string,
    database: string,
    sweep: number,
    after: string | null,
    limit: number,
  ): Promise<RangeRecord[]>;

  /** Adds counts to a range and to its database row, and clears the range's in-flight page. */
  addProgress(
    runId: string,
    database: string,
    sweep: number,
    start: string,
    delta: ProgressDelta,
  ): Promise<void>;

  /** The range starting at `start`, or `undefined`. */
  getRange(
    runId: string,
    database: string,
    sweep: number,
    start: string,
  ): Promise<RangeRecord | undefined>;

  /** Records the intent to write the page `after < id <= until` of a range. */
  markInflight(
    runId: string,
    database: string,
    sweep: number,
    start: string,
    page: { readonly after: string; readonly until: string },
  ): Promise<void>;

  /** Marks a range done or failed. Returns false when it was not pending. */
  finishRange(
    runId: string,
    database: string,
    sweep: number,
    start: string,
    status: 'done' | 'failed',
  ): Promise<boolean>;

  /** Ranges still pending in a sweep, plus databases whose planner has not finished. */
  openWork(runId: string, sweep: number): Promise<{ pendingRanges: number; planning: number }>;

  /** Stores the verify count of DEKs still on old versions. */
  setRemaining(runId: string, database: string, remaining: number): Promise<void>;

  audit(entry: Omit<AuditRecord, 'id' | 'at'>): Promise<void>;

  listAudit(options?: { runId?: string; limit?: number }): Promise<AuditRecord[]>;

  close(): Promise<void>;
}
