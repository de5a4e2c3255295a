/**
 * The control store over SQL: one implementation for SQLite and PostgreSQL, with portable SQL
 * (`ON CONFLICT`, epoch milliseconds in BIGINT, flags in INTEGER).
 */
import { randomUUID } from 'node:crypto';

import {
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
} from './control-store.ts';
import type { SqlDriver, SqlRow } from './sql-driver.ts';

/** Version 2 added `runs.paused`, `run_databases.failures` and the ranges' in-flight page. */
const SCHEMA_VERSION = 2;

/** A `ControlStore` over a SQL driver, with tables named `<tablePrefix>runs` and so on. */
export class SqlControlStore implements ControlStore {
  readonly #db: SqlDriver;
  readonly #p: string;

  constructor(driver: SqlDriver, tablePrefix = 'rekey_') {
    if (!/^[a-z_][a-z0-9_]{0,30}$/.test(tablePrefix)) {
      throw new TypeError('"tablePrefix" expected lowercase letters, digits and underscores');
    }
    this.#db = driver;
    this.#p = tablePrefix;
  }

  async migrate(): Promise<void> {
    const p = this.#p;
    const serial = this.#db.dialect === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGSERIAL PRIMARY KEY';
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${p}schema_version (version INTEGER NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${p}runs (
        id TEXT PRIMARY KEY, kek_name TEXT NOT NULL, target_ref TEXT, previous_ref TEXT,
        phase TEXT NOT NULL, databases TEXT NOT NULL, trig TEXT NOT NULL,
        sweep INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        finished_at BIGINT, error TEXT, retire_at BIGINT, retired_at BIGINT, active_kek TEXT)`,
      // At most one active run per KEK name (NULL once finished: NULLs never collide).
      `CREATE UNIQUE INDEX IF NOT EXISTS ${p}runs_active ON ${p}runs (active_kek)`,
      `CREATE UNIQUE INDEX IF NOT EXISTS ${p}runs_target ON ${p}runs (kek_name, target_ref)`,
      `CREATE TABLE IF NOT EXISTS ${p}run_databases (
        run_id TEXT NOT NULL, db TEXT NOT NULL, sweep INTEGER NOT NULL,
        planner_cursor TEXT, planner_done INTEGER NOT NULL DEFAULT 0, from_refs TEXT,
        planned BIGINT NOT NULL DEFAULT 0, done BIGINT NOT NULL DEFAULT 0,
        skipped BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0, remaining BIGINT,
        started_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (run_id, db))`,
      `CREATE TABLE IF NOT EXISTS ${p}run_ranges (
        run_id TEXT NOT NULL, db TEXT NOT NULL, sweep INTEGER NOT NULL, range_start TEXT NOT NULL,
        range_end TEXT, planned BIGINT NOT NULL, done BIGINT NOT NULL DEFAULT 0,
        skipped BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0,
        status TEXT NOT NULL, PRIMARY KEY (run_id, db, sweep, range_start))`,
      `CREATE INDEX IF NOT EXISTS ${p}run_ranges_open ON ${p}run_ranges (run_id, sweep, status)`,
      `CREATE TABLE IF NOT EXISTS ${p}audit (
        id ${serial}, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        kek_name TEXT, kek_ref TEXT, run_id TEXT, detail TEXT NOT NULL)`,
    ];
    const toVersion2 = [
      `ALTER TABLE ${p}runs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE ${p}run_databases ADD COLUMN failures TEXT`,
      `ALTER TABLE ${p}run_ranges ADD COLUMN inflight_after TEXT`,
      `ALTER TABLE ${p}run_ranges ADD COLUMN inflight_until TEXT`,
    ];
    await this.#db.transaction(async (tx) => {
      for (const s of statements) await tx.query(s);
      const { rows } = await tx.query(`SELECT version FROM ${p}schema_version`);
      const version = rows.length === 0 ? 0 : Number(rows[0]?.version);
      if (rows.length === 0) await tx.query(`INSERT INTO ${p}schema_version (version) VALUES (1)`);
      if (version < 2) for (const s of toVersion2) await tx.query(s);
      await tx.query(`UPDATE ${p}schema_version SET version = ?`, [SCHEMA_VERSION]);
    }, `${p}migrate`);
  }

  async startRun(input: StartRunInput): Promise<{ run: RunRecord; joined: boolean }> {
    const p = this.#p;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = Date.now();
      const id = randomUUID();
      try {
        await this.#db.query(
          `INSERT INTO ${p}runs (id, kek_name, target_ref, phase, databases, trig, sweep,
            created_at, updated_at, active_kek) VALUES (?, ?, ?, 'preparing', ?, ?, 0, ?, ?, ?)`,
          [
            id,
            input.kekName,
            input.targetRef ?? null,
            JSON.stringify(input.databases),
            input.trigger,
            now,
            now,
            input.kekName,
          ],
        );
        return { run: (await this.getRun(id)) as RunRecord, joined: false };
      } catch (error) {
        if (!this.#db.isUniqueViolation(error)) throw error;
      }
      const active = await this.#db.query(`SELECT * FROM ${p}runs WHERE active_kek = ?`, [
        input.kekName,
      ]);
      if (active.rows[0] !== undefined) return { run: toRun(active.rows[0]), joined: true };
      if (input.targetRef !== undefined) {
        // A finished run to this target exists: reopen it for another sweep rather than start a
        // second run for the same KEK name and target.
        const reopened = await this.#db.query(
          `UPDATE ${p}runs SET phase = 'preparing', active_kek = kek_name, finished_at = NULL,
            error = NULL, sweep = sweep + 1, updated_at = ?
            WHERE kek_name = ? AND target_ref = ? AND active_kek IS NULL`,
          [Date.now(), input.kekName, input.targetRef],
        );
        if (reopened.changes > 0) {
          const { rows } = await this.#db.query(
            `SELECT * FROM ${p}runs WHERE kek_name = ? AND target_ref = ?`,
            [input.kekName, input.targetRef],
          );
          return { run: toRun(rows[0] as SqlRow), joined: true };
        }
      }
    }
    throw new Error(`could not start or join a run of ${input.kekName}`);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const { rows } = await this.#db.query(`SELECT * FROM ${this.#p}runs WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : toRun(rows[0]);
  }

  async listRuns(
    options: { kekName?: string; activeOnly?: boolean; limit?: number } = {},
  ): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.kekName !== undefined) {
      where.push('kek_name = ?');
      params.push(options.kekName);
    }
    if (options.activeOnly === true) where.push('active_kek IS NOT NULL');
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    params.push(options.limit ?? 50);
    const { rows } = await this.#db.query(
      `SELECT * FROM ${this.#p}runs ${clause} ORDER BY created_at DESC, id LIMIT ?`,
      params,
    );
    return rows.map(toRun);
  }

  async updateRun(id: string, patch: RunPatch, expectPhase?: RunPhase): Promise<boolean> {
    const sets: string[] = ['updated_at = ?'];
    const params: unknown[] = [Date.now()];
    const column: Record<keyof RunPatch, string> = {
      targetRef: 'target_ref',
      previousRef: 'previous_ref',
      phase: 'phase',
      sweep: 'sweep',
      finishedAt: 'finished_at',
      error: 'error',
      retireAt: 'retire_at',
      retiredAt: 'retired_at',
      paused: 'paused',
    };
    for (const [key, value] of Object.entries(patch) as [keyof RunPatch, unknown][]) {
      if (value === undefined) continue;
      sets.push(`${column[key]} = ?`);
      params.push(
        value instanceof Date
          ? value.getTime()
          : typeof value === 'boolean'
            ? Number(value)
            : value,
      );
    }
    if (patch.phase !== undefined) {
      sets.push(
        ACTIVE_PHASES.includes(patch.phase) ? 'active_kek = kek_name' : 'active_kek = NULL',
      );
    }
    params.push(id);
    let where = 'id = ?';
    if (expectPhase !== undefined) {
      where += ' AND phase = ?';
      params.push(expectPhase);
    }
    const { changes } = await this.#db.query(
      `UPDATE ${this.#p}runs SET ${sets.join(', ')} WHERE ${where}`,
      params,
    );
    return changes > 0;
  }

  async beginSweep(runId: string, databases: readonly string[], sweep: number): Promise<void> {
    const now = Date.now();
    await this.#db.transaction(async (tx) => {
      for (const db of databases) {
        await tx.query(
          `INSERT INTO ${this.#p}run_databases (run_id, db, sweep, planner_cursor, planner_done,
            started_at, updated_at) VALUES (?, ?, ?, NULL, 0, ?, ?)
            ON CONFLICT (run_id, db) DO UPDATE SET sweep = excluded.sweep, planner_cursor = NULL, from_refs = NULL,
            planner_done = 0, updated_at = excluded.updated_at
            WHERE ${this.#p}run_databases.sweep < excluded.sweep`,
          [runId, db, sweep, now, now],
        );
      }
    });
  }

  async getProgress(runId: string): Promise<DatabaseProgress[]> {
    const { rows } = await this.#db.query(
      `SELECT * FROM ${this.#p}run_databases WHERE run_id = ? ORDER BY db`,
      [runId],
    );
    return rows.map(toProgress);
  }

  async setFromRefs(runId: string, database: string, refs: readonly string[]): Promise<void> {
    await this.#db.query(
      `UPDATE ${this.#p}run_databases SET from_refs = ?, updated_at = ? WHERE run_id = ? AND db = ?`,
      [JSON.stringify(refs), Date.now(), runId, database],
    );
  }

  async checkpointPlanner(
    runId: string,
    database: string,
    sweep: number,
    ranges: readonly NewRange[],
    cursor: string | null,
    done: boolean,
  ): Promise<void> {
    const p = this.#p;
    await this.#db.transaction(async (tx) => {
      let added = 0;
      for (const r of ranges) {
        const { changes } = await tx.query(
          `INSERT INTO ${p}run_ranges (run_id, db, sweep, range_start, range_end, planned, status)
            VALUES (?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT DO NOTHING`,
          [runId, database, sweep, r.start, r.end, r.planned],
        );
        if (changes > 0) added += r.planned;
      }
      await tx.query(
        `UPDATE ${p}run_databases SET planner_cursor = ?, planner_done = ?,
          planned = planned + ?, updated_at = ? WHERE run_id = ? AND db = ? AND sweep = ?`,
        [cursor, done ? 1 : 0, added, Date.now(), runId, database, sweep],
      );
    });
  }

  async listPendingRanges(
    runId: string,
    database: string,
    sweep: number,
    after: string | null,
    limit: number,
  ): Promise<RangeRecord[]> {
    const { rows } = await this.#db.query(
      `SELECT * FROM ${this.#p}run_ranges WHERE run_id = ? AND db = ? AND sweep = ?
        AND status = 'pending' AND range_start > ? ORDER BY range_start LIMIT ?`,
      [runId, database, sweep, after ?? '', limit],
    );
    // The first range starts at '' which `> ''` skips: fetch it separately on the first page.
    if (after === null) {
      const first = await this.#db.query(
        `SELECT * FROM ${this.#p}run_ranges WHERE run_id = ? AND db = ? AND sweep = ?
          AND status = 'pending' AND range_start = ''`,
        [runId, database, sweep],
      );
      rows.unshift(...first.rows);
    }
    return rows.slice(0, limit).map(toRange);
  }

  async addProgress(
    runId: string,
    database: string,
    sweep: number,
    start: string,
    delta: ProgressDelta,
  ): Promise<void> {
    const p = this.#p;
    if (delta.done === 0 && delta.skipped === 0 && delta.failed === 0) {
      await this.#db.query(
        `UPDATE ${p}run_ranges SET inflight_after = NULL, inflight_until = NULL
          WHERE run_id = ? AND db = ? AND sweep = ? AND range_start = ?`,
        [runId, database, sweep, start],
      );
      return;
    }
    const counts = [delta.done, delta.skipped, delta.failed];
    await this.#db.transaction(async (tx) => {
      if (delta.failures !== undefined && Object.keys(delta.failures).length > 0) {
        const { rows } = await tx.query(
          `SELECT failures FROM ${p}run_databases WHERE run_id = ? AND db = ?`,
          [runId, database],
        );
        const failures = parseFailures(rows[0]?.failures);
        for (const [code, n] of Object.entries(delta.failures)) {
          failures[code] = (failures[code] ?? 0) + n;
        }
        await tx.query(`UPDATE ${p}run_databases SET failures = ? WHERE run_id = ? AND db = ?`, [
          JSON.stringify(failures),
          runId,
          database,
        ]);
      }
      await tx.query(
        `UPDATE ${p}run_ranges SET done = done + ?, skipped = skipped + ?, failed = failed + ?,
          inflight_after = NULL, inflight_until = NULL
          WHERE run_id = ? AND db = ? AND sweep = ? AND range_start = ?`,
        [...counts, runId, database, sweep, start],
      );
      await tx.query(
        `UPDATE ${p}run_databases SET done = done + ?, skipped = skipped + ?,
          failed = failed + ?, updated_at = ? WHERE run_id = ? AND db = ?`,
        [...counts, Date.now(), runId, database],
      );
    });
  }

  async getRange(
    runId: string,
    database: string,
    sweep: number,
    start: string,
  ): Promise<RangeRecord | undefined> {
    const { rows } = await this.#db.query(
      `SELECT * FROM ${this.#p}run_ranges WHERE run_id = ? AND db = ? AND sweep = ? AND range_start = ?`,
      [runId, database, sweep, start],
    );
    return rows[0] === undefined ? undefined : toRange(rows[0]);
  }

  async markInflight(
    runId: string,
    database: string,
    sweep: number,
    start: string,
    page: { readonly after: string; readonly until: string },
  ): Promise<void> {
    await this.#db.query(
      `UPDATE ${this.#p}run_ranges SET inflight_after = ?, inflight_until = ?
        WHERE run_id = ? AND db = ? AND sweep = ? AND range_start = ?`,
      [page.after, page.until, runId, database, sweep, start],
    );
  }

  async finishRange(
    runId: string,
    database: string,
    sweep: number,
    start: string,
    status: 'done' | 'failed',
  ): Promise<boolean> {
    const { changes } = await this.#db.query(
      `UPDATE ${this.#p}run_ranges SET status = ? WHERE run_id = ? AND db = ? AND sweep = ?
        AND range_start = ? AND status = 'pending'`,
      [status, runId, database, sweep, start],
    );
    return changes > 0;
  }

  async openWork(
    runId: string,
    sweep: number,
  ): Promise<{ pendingRanges: number; planning: number }> {
    const ranges = await this.#db.query(
      `SELECT COUNT(*) AS n FROM ${this.#p}run_ranges
        WHERE run_id = ? AND sweep = ? AND status = 'pending'`,
      [runId, sweep],
    );
    const planners = await this.#db.query(
      `SELECT COUNT(*) AS n FROM ${this.#p}run_databases
        WHERE run_id = ? AND sweep = ? AND planner_done = 0`,
      [runId, sweep],
    );
    return {
      pendingRanges: Number(ranges.rows[0]?.n ?? 0),
      planning: Number(planners.rows[0]?.n ?? 0),
    };
  }

  async setRemaining(runId: string, database: string, remaining: number): Promise<void> {
    await this.#db.query(
      `UPDATE ${this.#p}run_databases SET remaining = ?, updated_at = ? WHERE run_id = ? AND db = ?`,
      [remaining, Date.now(), runId, database],
    );
  }

  async audit(entry: Omit<AuditRecord, 'id' | 'at'>): Promise<void> {
    await this.#db.query(
      `INSERT INTO ${this.#p}audit (at, actor, action, kek_name, kek_ref, run_id, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        Date.now(),
        entry.actor,
        entry.action,
        entry.kekName,
        entry.kekRef,
        entry.runId,
        JSON.stringify(entry.detail),
      ],
    );
  }

  async listAudit(options: { runId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const where = options.runId === undefined ? '' : 'WHERE run_id = ?';
    const params: unknown[] = options.runId === undefined ? [] : [options.runId];
    params.push(options.limit ?? 100);
    const { rows } = await this.#db.query(
      `SELECT * FROM ${this.#p}audit ${where} ORDER BY id DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: new Date(Number(r.at)),
      actor: String(r.actor),
      action: String(r.action),
      kekName: (r.kek_name as string | null) ?? null,
      kekRef: (r.kek_ref as string | null) ?? null,
      runId: (r.run_id as string | null) ?? null,
      detail: JSON.parse(String(r.detail)),
    }));
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}

const date = (v: unknown): Date | null =>
  v === null || v === undefined ? null : new Date(Number(v));

function toRun(r: SqlRow): RunRecord {
  return {
    id: String(r.id),
    kekName: String(r.kek_name),
    targetRef: (r.target_ref as string | null) ?? null,
    previousRef: (r.previous_ref as string | null) ?? null,
    phase: r.phase as RunPhase,
    databases: JSON.parse(String(r.databases)) as string[],
    trigger: String(r.trig),
    sweep: Number(r.sweep),
    createdAt: date(r.created_at) as Date,
    updatedAt: date(r.updated_at) as Date,
    finishedAt: date(r.finished_at),
    error: (r.error as string | null) ?? null,
    retireAt: date(r.retire_at),
    retiredAt: date(r.retired_at),
    paused: Number(r.paused ?? 0) === 1,
  };
}

function toProgress(r: SqlRow): DatabaseProgress {
  return {
    runId: String(r.run_id),
    database: String(r.db),
    sweep: Number(r.sweep),
    plannerCursor: (r.planner_cursor as string | null) ?? null,
    plannerDone: Number(r.planner_done) === 1,
    fromRefs:
      r.from_refs === null || r.from_refs === undefined ? [] : JSON.parse(String(r.from_refs)),
    planned: Number(r.planned),
    done: Number(r.done),
    skipped: Number(r.skipped),
    failed: Number(r.failed),
    failures: parseFailures(r.failures),
    remaining: r.remaining === null || r.remaining === undefined ? null : Number(r.remaining),
    startedAt: date(r.started_at) as Date,
    updatedAt: date(r.updated_at) as Date,
  };
}

function toRange(r: SqlRow): RangeRecord {
  return {
    runId: String(r.run_id),
    database: String(r.db),
    sweep: Number(r.sweep),
    start: String(r.range_start),
    end: (r.range_end as string | null) ?? null,
    planned: Number(r.planned),
    done: Number(r.done),
    skipped: Number(r.skipped),
    failed: Number(r.failed),
    status: r.status as RangeRecord['status'],
    inflight:
      r.inflight_until === null || r.inflight_until === undefined
        ? null
        : { after: String(r.inflight_after ?? ''), until: String(r.inflight_until) },
  };
}

function parseFailures(value: unknown): Record<string, number> {
  if (typeof value !== 'string' || value === '') return {};
  return JSON.parse(value) as Record<string, number>;
}
