/**
 * What the dashboard shows of a run: a summary for the overview and the full view for the run
 * page. Everything is ids, refs, counts and times: never key material or connection details.
 */
import {
  ACTIVE_PHASES,
  type AuditRecord,
  type DatabaseProgress,
  type RunRecord,
} from '@rekey/worker/control';
import type { DashboardBackend } from './dashboard-backend.ts';
import { etaSeconds, type ThroughputPoint, type ThroughputTracker } from './throughput.ts';

/** Counts of a run or of one database of it. */
export interface ProgressCounts {
  readonly planned: number;
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  /** DEKs still to rewrap (or, after a verify, still on old versions). */
  readonly remaining: number;
  /** 0-100, 100 once the run completed. */
  readonly percent: number;
}

/** One database of a run. */
export interface DatabaseView extends ProgressCounts {
  readonly database: string;
  readonly sweep: number;
  readonly planning: boolean;
  readonly fromRefs: readonly string[];
}

/** A run as the overview lists it. */
export interface RunSummary {
  readonly id: string;
  readonly kekName: string;
  readonly targetRef: string | null;
  readonly phase: RunRecord['phase'];
  readonly active: boolean;
  readonly paused: boolean;
  readonly trigger: string;
  readonly sweep: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly totals: ProgressCounts;
  readonly ratePerSecond: number;
  readonly etaSeconds: number | null;
}

/** An error class and how often it happened. */
export interface ErrorClass {
  /** A code or error name, never a message (messages may name hosts). */
  readonly name: string;
  readonly count: number;
  /** `deks`: DEKs left on old versions; `jobs`: queue jobs that failed or are retrying. */
  readonly source: 'deks' | 'jobs' | 'run';
}

/** An audit line as shown. */
export interface AuditView {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly kekRef: string | null;
  readonly detail: AuditRecord['detail'];
}

/** The run page. */
export interface RunView extends RunSummary {
  readonly previousRef: string | null;
  readonly databases: readonly DatabaseView[];
  readonly throughput: readonly ThroughputPoint[];
  readonly errors: readonly ErrorClass[];
  readonly audit: readonly AuditView[];
  readonly retireAt: string | null;
  readonly retiredAt: string | null;
}

/** True when an active run is paused by an operator. */
export function isPaused(run: RunRecord): boolean {
  return run.paused && ACTIVE_PHASES.includes(run.phase);
}

function counts(
  p: Pick<DatabaseProgress, 'planned' | 'done' | 'skipped' | 'failed' | 'remaining'>,
  completed: boolean,
  active: boolean,
): ProgressCounts {
  const processed = p.done + p.skipped + p.failed;
  const open = Math.max(0, p.planned - processed);
  const remaining = active ? open : (p.remaining ?? open);
  let percent = p.planned === 0 ? 0 : Math.min(100, (processed / p.planned) * 100);
  if (completed) percent = 100;
  return {
    planned: p.planned,
    done: p.done,
    skipped: p.skipped,
    failed: p.failed,
    remaining,
    percent: Math.floor(percent * 10) / 10,
  };
}

function databaseViews(run: RunRecord, progress: readonly DatabaseProgress[]): DatabaseView[] {
  const active = ACTIVE_PHASES.includes(run.phase);
  const byName = new Map(progress.map((p) => [p.database, p]));
  return run.databases.map((database) => {
    const p = byName.get(database);
    if (p === undefined) {
      const zero = { planned: 0, done: 0, skipped: 0, failed: 0, remaining: null };
      return {
        database,
        sweep: run.sweep,
        planning: active,
        fromRefs: [],
        ...counts(zero, false, active),
      };
    }
    return {
      database,
      sweep: p.sweep,
      planning: active && !p.plannerDone,
      fromRefs: p.fromRefs,
      ...counts(p, run.phase === 'completed', active),
    };
  });
}

function totalsOf(run: RunRecord, dbs: readonly DatabaseView[]): ProgressCounts {
  const sum = (k: 'planned' | 'done' | 'skipped' | 'failed' | 'remaining'): number =>
    dbs.reduce((n, d) => n + d[k], 0);
  const active = ACTIVE_PHASES.includes(run.phase);
  return counts(
    {
      planned: sum('planned'),
      done: sum('done'),
      skipped: sum('skipped'),
      failed: sum('failed'),
      remaining: sum('remaining'),
    },
    run.phase === 'completed',
    active,
  );
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** The summary of a run, recording a throughput sample on the way. */
export function summarize(
  run: RunRecord,
  progress: readonly DatabaseProgress[],
  throughput: ThroughputTracker,
  now: number,
): RunSummary & { readonly databaseViews: DatabaseView[] } {
  const dbs = databaseViews(run, progress);
  const totals = totalsOf(run, dbs);
  const active = ACTIVE_PHASES.includes(run.phase);
  if (active) throughput.record(run.id, now, totals.done + totals.skipped + totals.failed);
  const paused = isPaused(run);
  const rate = active && !paused ? throughput.rate(run.id) : 0;
  return {
    id: run.id,
    kekName: run.kekName,
    targetRef: run.targetRef,
    phase: run.phase,
    active,
    paused,
    trigger: run.trigger,
    sweep: run.sweep,
    createdAt: run.createdAt.toISOString(),
    finishedAt: iso(run.finishedAt),
    error: run.error,
    totals,
    ratePerSecond: Math.round(rate),
    // No ETA while a planner still counts the work: the remainder is not known yet.
    etaSeconds: active && !dbs.some((d) => d.planning) ? etaSeconds(totals.remaining, rate) : null,
    databaseViews: dbs,
  };
}

/** Reads a run's summary from the control store. */
export async function loadRunSummary(
  backend: DashboardBackend,
  throughput: ThroughputTracker,
  run: RunRecord,
): Promise<RunSummary> {
  const progress = await backend.control.getProgress(run.id);
  const { databaseViews: _, ...summary } = summarize(run, progress, throughput, Date.now());
  return summary;
}

/** Reads the full run page, or `undefined` when there is no such run. */
export async function loadRunView(
  backend: DashboardBackend,
  throughput: ThroughputTracker,
  runId: string,
): Promise<RunView | undefined> {
  const run = await backend.control.getRun(runId);
  if (run === undefined) return undefined;
  const [progress, audit, jobErrors] = await Promise.all([
    backend.control.getProgress(run.id),
    backend.control.listAudit({ runId: run.id, limit: 200 }),
    jobErrorClasses(backend, run),
  ]);
  const { databaseViews: dbs, ...summary } = summarize(run, progress, throughput, Date.now());
  const errors: ErrorClass[] = [];
  let unclassified = summary.totals.failed;
  for (const [code, count] of failureCodes(progress)) {
    errors.push({ name: code, count, source: 'deks' });
    unclassified -= count;
  }
  if (unclassified > 0) {
    errors.push({
      name: 'rewrap failed (DEK left on its old version)',
      count: unclassified,
      source: 'deks',
    });
  }
  if (summary.totals.skipped > 0) {
    errors.push({
      name: 'changed meanwhile (compare-and-swap conflict)',
      count: summary.totals.skipped,
      source: 'deks',
    });
  }
  errors.push(...jobErrors);
  if (run.error !== null && run.error !== 'cancelled') {
    errors.push({ name: run.error, count: 1, source: 'run' });
  }
  return {
    ...summary,
    previousRef: run.previousRef,
    databases: dbs,
    throughput: throughput.series(run.id),
    errors,
    audit: audit.map((a) => ({
      at: a.at.toISOString(),
      actor: a.actor,
      action: a.action,
      kekRef: a.kekRef,
      detail: a.detail,
    })),
    retireAt: iso(run.retireAt),
    retiredAt: iso(run.retiredAt),
  };
}

/** Failed DEKs by error code, summed over the databases. */
function failureCodes(progress: readonly DatabaseProgress[]): Map<string, number> {
  const codes = new Map<string, number>();
  for (const p of progress) {
    for (const [code, count] of Object.entries(p.failures)) {
      if (count > 0) codes.set(code, (codes.get(code) ?? 0) + count);
    }
  }
  return codes;
}

/** Failed and retrying queue jobs of a run, grouped by error class. */
async function jobErrorClasses(backend: DashboardBackend, run: RunRecord): Promise<ErrorClass[]> {
  const queues = [backend.queues.control(), ...run.databases.map((d) => backend.queues.batch(d))];
  const classes = new Map<string, number>();
  await Promise.all(
    queues.map(async (queue) => {
      try {
        const jobs = await queue.getJobs(['failed', 'delayed'], 0, 199);
        for (const job of jobs) {
          if ((job?.data as { runId?: unknown } | undefined)?.runId !== run.id) continue;
          if (job.attemptsMade === 0 || job.failedReason === undefined) continue;
          const name = errorClass(job.failedReason, job.stacktrace ?? undefined);
          classes.set(name, (classes.get(name) ?? 0) + 1);
        }
      } catch {
        // Redis away: the control store's counts are still shown.
      }
    }),
  );
  return [...classes].map(([name, count]) => ({ name, count, source: 'jobs' as const }));
}

/**
 * The class of a job failure: a stable error code (`KEK_UNAVAILABLE`, `ECONNREFUSED`) or the
 * error's class name. Messages are dropped: they may name hosts and ports.
 */
export function errorClass(reason: string, stacktrace: readonly string[] | undefined): string {
  const code = /\b([A-Z][A-Z0-9]*_[A-Z0-9_]+|E[A-Z]{4,})\b/.exec(reason)?.[1];
  if (code !== undefined) return code;
  const name = /^([A-Za-z]*Error)\b/.exec(stacktrace?.[0] ?? '')?.[1];
  return name ?? 'Error';
}
