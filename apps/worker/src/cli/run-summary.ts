/**
 * The stable JSON shape of a run for `status --json` and `rotate --wait --json` (documented in
 * the README). Fields are only ever added.
 */
import type { ControlStore, DatabaseProgress, RunRecord } from '../control/control-store.ts';

/** Progress of one database in a run summary. */
export interface DatabaseSummary {
  readonly name: string;
  readonly planned: number;
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  /** Verify's count when it ran, else what the planner found minus what was handled. */
  readonly remaining: number;
  readonly plannerDone: boolean;
  readonly ratePerSecond: number;
  readonly etaSeconds: number | null;
}

/** A run as `status --json` prints it. */
export interface RunSummary {
  readonly id: string;
  readonly kekName: string;
  readonly targetRef: string | null;
  readonly phase: string;
  readonly trigger: string;
  readonly sweep: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly totals: {
    readonly planned: number;
    readonly done: number;
    readonly skipped: number;
    readonly failed: number;
    readonly remaining: number;
  };
  readonly databases: readonly DatabaseSummary[];
}

function databaseSummary(p: DatabaseProgress): DatabaseSummary {
  const handled = p.done + p.skipped + p.failed;
  const remaining = p.remaining ?? Math.max(0, p.planned - handled);
  const seconds = Math.max(0.001, (p.updatedAt.getTime() - p.startedAt.getTime()) / 1000);
  const rate = handled === 0 ? 0 : Math.round(handled / seconds);
  return {
    name: p.database,
    planned: p.planned,
    done: p.done,
    skipped: p.skipped,
    failed: p.failed,
    remaining,
    plannerDone: p.plannerDone,
    ratePerSecond: rate,
    etaSeconds: rate === 0 ? null : Math.ceil(remaining / rate),
  };
}

/** The summary of one run. */
export async function summarizeRun(control: ControlStore, run: RunRecord): Promise<RunSummary> {
  const databases = (await control.getProgress(run.id)).map(databaseSummary);
  const sum = (f: (d: DatabaseSummary) => number): number =>
    databases.reduce((n, d) => n + f(d), 0);
  return {
    id: run.id,
    kekName: run.kekName,
    targetRef: run.targetRef,
    phase: run.phase,
    trigger: run.trigger,
    sweep: run.sweep,
    createdAt: run.createdAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    error: run.error,
    totals: {
      planned: sum((d) => d.planned),
      done: sum((d) => d.done),
      skipped: sum((d) => d.skipped),
      failed: sum((d) => d.failed),
      remaining: sum((d) => d.remaining),
    },
    databases,
  };
}
