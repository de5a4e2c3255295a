/**
 * The overview: every KEK name with its versions and the primary's age against its rotation
 * policy, the next scheduled rotation, the DEK inventory per database and version, and the
 * runs in progress. Providers and stores that do not answer are shown as unavailable, never as
 * an error page.
 */
import type { KekVersion } from '@rekey/crypto-core';
import { jobIds } from '@rekey/worker/engine';
import { CronExpressionParser } from 'cron-parser';
import type { DashboardBackend, DashboardKek } from './dashboard-backend.ts';
import { loadRunSummary, type RunSummary } from './run-view.ts';
import type { ThroughputTracker } from './throughput.ts';

/** One KEK version as shown. */
export interface VersionView {
  readonly ref: string;
  readonly state: KekVersion['state'];
  readonly createdAt: string;
}

/** How the primary's age stands against the rotation policy. */
export type PolicyStatus = 'ok' | 'due' | 'rotating' | 'no-policy' | 'unavailable';

/** One KEK name as shown. */
export interface KekView {
  readonly name: string;
  readonly provider: string;
  readonly versions: readonly VersionView[];
  readonly primaryRef: string | null;
  readonly primaryAgeSeconds: number | null;
  /** `every 30d`, `cron 0 3 * * 1`, or `null` without a schedule. */
  readonly policy: string | null;
  /** When the primary is due for rotation by policy. */
  readonly dueAt: string | null;
  readonly nextRotationAt: string | null;
  readonly status: PolicyStatus;
}

/** DEK counts of one database. */
export interface InventoryView {
  readonly database: string;
  readonly available: boolean;
  readonly counts: readonly { kekName: string; kekRef: string; count: number }[];
}

/** The overview page. */
export interface OverviewView {
  readonly generatedAt: string;
  readonly keks: readonly KekView[];
  readonly databases: readonly string[];
  readonly inventory: readonly InventoryView[];
  readonly activeRuns: readonly RunSummary[];
  readonly recentRuns: readonly RunSummary[];
}

/** Reads everything the overview shows. */
export async function loadOverview(
  backend: DashboardBackend,
  throughput: ThroughputTracker,
  now = Date.now(),
): Promise<OverviewView> {
  const runs = await backend.control.listRuns({ limit: 20 });
  const summaries = await Promise.all(runs.map((r) => loadRunSummary(backend, throughput, r)));
  const rotating = new Set(summaries.filter((s) => s.active).map((s) => s.kekName));
  const [keks, inventory] = await Promise.all([
    Promise.all(backend.keks.map((k) => kekView(backend, k, rotating.has(k.name), now))),
    loadInventory(backend),
  ]);
  return {
    generatedAt: new Date(now).toISOString(),
    keks,
    databases: backend.databases.map((d) => d.name),
    inventory,
    activeRuns: summaries.filter((s) => s.active),
    recentRuns: summaries.filter((s) => !s.active).slice(0, 10),
  };
}

/** DEK counts per database and KEK ref. */
export async function loadInventory(backend: DashboardBackend): Promise<InventoryView[]> {
  return Promise.all(
    backend.databases.map(async (db) => {
      try {
        const counts = await db.store.countByRef();
        const sorted = [...counts].sort(
          (a, b) => a.kekName.localeCompare(b.kekName) || a.kekRef.localeCompare(b.kekRef),
        );
        return {
          database: db.name,
          available: true,
          counts: sorted.map((c) => ({ kekName: c.kekName, kekRef: c.kekRef, count: c.count })),
        };
      } catch {
        return { database: db.name, available: false, counts: [] };
      }
    }),
  );
}

async function kekView(
  backend: DashboardBackend,
  kek: DashboardKek,
  rotating: boolean,
  now: number,
): Promise<KekView> {
  const policy = policyText(kek);
  const base = { name: kek.name, provider: kek.providerName, policy };
  let versions: readonly KekVersion[];
  try {
    versions = await kek.provider.describe(kek.name);
  } catch {
    const none = { versions: [], primaryRef: null, primaryAgeSeconds: null, dueAt: null };
    return { ...base, ...none, nextRotationAt: null, status: 'unavailable' };
  }
  const primary = versions.find((v) => v.state === 'primary');
  const dueAt = primary === undefined ? null : dueDate(kek, primary.createdAt);
  let status: PolicyStatus = 'no-policy';
  if (rotating) status = 'rotating';
  else if (dueAt !== null) status = dueAt.getTime() <= now ? 'due' : 'ok';
  return {
    ...base,
    versions: versions.map((v) => ({
      ref: v.ref,
      state: v.state,
      createdAt: v.createdAt.toISOString(),
    })),
    primaryRef: primary?.ref ?? null,
    primaryAgeSeconds:
      primary === undefined
        ? null
        : Math.max(0, Math.floor((now - primary.createdAt.getTime()) / 1000)),
    dueAt: dueAt?.toISOString() ?? null,
    nextRotationAt: await nextRotation(backend, kek, dueAt, now),
    status,
  };
}

function policyText(kek: DashboardKek): string | null {
  const s = kek.schedule;
  if (s === undefined) return null;
  return 'cron' in s ? `cron ${s.cron} (UTC)` : `every ${formatDuration(s.everyMs)}`;
}

/** When a primary created at `createdAt` is due for rotation under the KEK's schedule. */
function dueDate(kek: DashboardKek, createdAt: Date): Date | null {
  const s = kek.schedule;
  if (s === undefined) return null;
  if ('everyMs' in s) return new Date(createdAt.getTime() + s.everyMs);
  try {
    return CronExpressionParser.parse(s.cron, { currentDate: createdAt, tz: 'UTC' })
      .next()
      .toDate();
  } catch {
    return null;
  }
}

/** The next scheduled rotation: from the engine's job scheduler, else from the schedule. */
async function nextRotation(
  backend: DashboardBackend,
  kek: DashboardKek,
  dueAt: Date | null,
  now: number,
): Promise<string | null> {
  const s = kek.schedule;
  if (s === undefined) return null;
  try {
    const scheduler = await backend.queues.control().getJobScheduler(jobIds.schedule(kek.name));
    if (scheduler?.next !== undefined) return new Date(scheduler.next).toISOString();
  } catch {
    // Redis away: fall back to the schedule itself.
  }
  // Without a scheduler yet (no worker has led), an interval schedule rotates when due.
  if ('everyMs' in s)
    return dueAt === null ? null : new Date(Math.max(now, dueAt.getTime())).toISOString();
  try {
    return CronExpressionParser.parse(s.cron, { currentDate: new Date(now), tz: 'UTC' })
      .next()
      .toDate()
      .toISOString();
  } catch {
    return null;
  }
}

/** `90d`, `12h`, `15m`, `30s` or `500ms`: the largest whole unit. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
