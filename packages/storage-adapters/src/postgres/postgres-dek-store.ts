/**
 * The PostgreSQL `DekStore`, over a postgres.js (porsager) client that the caller owns. Runs on
 * Node and Deno. Every operation is one statement; `migrate()` is one transaction.
 */
import {
  assertDekId,
  ConfigError,
  type DekCount,
  type DekRecord,
  type DekScan,
  type DekStore,
  type DekSwap,
  type DekSwapResult,
  InputError,
  type KekName,
  type NewDekRecord,
} from '@rekey/crypto-core';
import type postgres from 'postgres';

import {
  assertIds,
  assertNewDek,
  assertOptionalKekName,
  assertScan,
  assertSwaps,
  assertTableName,
  assertText,
  MAX_BATCH,
  MAX_SCOPE_LENGTH,
} from '../validation.ts';
import { byteaArray, plainArray, textArray } from './pg-arrays.ts';
import { errorCode, RETRY_STATES, toRekeyError } from './postgres-errors.ts';
import { ident, MIGRATIONS, versionTable } from './postgres-schema.ts';
import { type PostgresStatements, postgresStatements } from './postgres-sql.ts';

/** A postgres.js client: `postgres(...)` or a reserved connection. */
export type PostgresClient = postgres.Sql;

/** Options of {@link PostgresDekStore}. */
export interface PostgresDekStoreOptions {
  /** Table name, `[a-z_][a-z0-9_]*`, at most 48 characters. Default `rekey_deks`. */
  readonly table?: string;
  /**
   * Use named prepared statements (default true). Turn off behind a pooler in transaction mode
   * (PgBouncer) that cannot keep them.
   */
  readonly prepare?: boolean;
}

interface Row {
  id: string;
  scope: string;
  kek_name: string;
  kek_ref: string;
  wrapped: Uint8Array;
  revision: number;
  created_at: Date;
  rotated_at: Date | null;
}

/** Deadlocked or serialization-failed statements are retried this often; they wrote nothing. */
const RETRIES = 5;

/**
 * Wrapped DEKs in a PostgreSQL table: `id uuid` primary key, `kek_ref`/`wrapped`/`revision` for
 * rotation, indexed on `(kek_name, kek_ref, id)` for keyset scans and on `scope`.
 *
 * @example
 * ```ts
 * import postgres from 'postgres';
 * const sql = postgres('postgres://app@db/app', { max: 4 });
 * const store = new PostgresDekStore(sql, { table: 'rekey_deks' });
 * await store.migrate();
 * ```
 */
export class PostgresDekStore implements DekStore {
  readonly #sql: PostgresClient;
  readonly #table: string;
  readonly #prepare: boolean;
  readonly #q: PostgresStatements;

  /**
   * @throws {InputError} for a malformed table name.
   * @throws {ConfigError} when the client transforms columns, values or rows (`transform`): the
   *   store reads columns by their SQL names.
   */
  constructor(sql: PostgresClient, options: PostgresDekStoreOptions = {}) {
    const table = options.table ?? 'rekey_deks';
    assertTableName(table);
    type Transforms = { options?: { transform?: Record<string, { from?: unknown }> } };
    const transform = (sql as unknown as Transforms).options?.transform;
    if (['column', 'value', 'row'].some((k) => transform?.[k]?.from !== undefined)) {
      throw new ConfigError('"sql" expected a postgres.js client without `transform`');
    }
    this.#sql = sql;
    this.#table = table;
    this.#prepare = options.prepare ?? true;
    this.#q = postgresStatements(table);
  }

  /**
   * Creates the table, its indexes and `<table>_schema`, or applies the migrations it lacks.
   * Concurrent callers queue on an advisory lock, so two workers starting at once are safe.
   *
   * @throws {StoreUnavailableError} when the database cannot be reached.
   */
  async migrate(): Promise<void> {
    const table = this.#table;
    await this.#run(() =>
      this.#sql.begin(async (tx) => {
        await tx.unsafe('SELECT pg_advisory_xact_lock(hashtext($1))', [`rekey:${table}`]);
        await tx.unsafe(versionTable(table));
        const rows = await tx.unsafe(
          `SELECT coalesce(max(version), 0) AS version FROM ${ident(`${table}_schema`)}`,
        );
        const current = Number(rows[0]?.version ?? 0);
        for (const m of MIGRATIONS) {
          if (m.version <= current) continue;
          for (const statement of m.statements(table)) await tx.unsafe(statement);
          await tx.unsafe(`INSERT INTO ${ident(`${table}_schema`)} (version) VALUES ($1)`, [
            m.version,
          ]);
        }
      }),
    );
  }

  /**
   * @throws {InputError} for a malformed record.
   * @throws {DuplicateDekError} when the id is taken.
   * @throws {StoreUnavailableError} when the database cannot be reached.
   */
  async insert(record: NewDekRecord): Promise<DekRecord> {
    assertNewDek(record);
    const { id, scope, kekName, kekRef, wrapped } = record;
    const rows = await this.#query<Row>(this.#q.insert, [id, scope, kekName, kekRef, wrapped], id);
    return toRecord(rows[0] as Row);
  }

  /**
   * Inserts many DEKs in one statement (all or none), for imports and tests. Not part of the
   * port.
   *
   * @throws {InputError} for a malformed record or more than 10,000 of them.
   * @throws {DuplicateDekError} when an id is taken; then nothing is inserted.
   */
  async insertMany(records: readonly NewDekRecord[]): Promise<void> {
    if (!Array.isArray(records) || records.length > MAX_BATCH) {
      throw new InputError(`"records" expected an array of at most ${MAX_BATCH} records`);
    }
    for (const r of records) assertNewDek(r);
    if (records.length === 0) return;
    await this.#query(this.#q.insertMany, [
      plainArray(records.map((r) => r.id)),
      textArray(records.map((r) => r.scope)),
      textArray(records.map((r) => r.kekName)),
      textArray(records.map((r) => r.kekRef)),
      byteaArray(records.map((r) => r.wrapped)),
    ]);
  }

  /** @throws {InputError} for a malformed id. */
  async get(id: string): Promise<DekRecord | undefined> {
    assertDekId(id);
    const rows = await this.#query<Row>(this.#q.get, [id]);
    return rows.length === 0 ? undefined : toRecord(rows[0] as Row);
  }

  /** @throws {InputError} for a malformed id or more than 10,000 ids. */
  async getMany(ids: readonly string[]): Promise<DekRecord[]> {
    assertIds(ids);
    if (ids.length === 0) return [];
    const rows = await this.#query<Row>(this.#q.getMany, [plainArray(ids)]);
    return rows.map(toRecord);
  }

  /** @throws {InputError} for a malformed scope or KEK name. */
  async findByScope(scope: string, kekName?: KekName): Promise<DekRecord[]> {
    assertText(scope, 'scope', MAX_SCOPE_LENGTH, false);
    assertOptionalKekName(kekName);
    const rows =
      kekName === undefined
        ? await this.#query<Row>(this.#q.findByScope, [scope])
        : await this.#query<Row>(this.#q.findByScopeAndName, [scope, kekName]);
    return rows.map(toRecord);
  }

  /** @throws {InputError} for a malformed id. */
  async delete(id: string): Promise<boolean> {
    assertDekId(id);
    const rows = await this.#query(this.#q.delete, [id]);
    return rows.count > 0;
  }

  /** @throws {InputError} for a malformed scope. */
  async deleteScope(scope: string): Promise<number> {
    assertText(scope, 'scope', MAX_SCOPE_LENGTH, false);
    const rows = await this.#query(this.#q.deleteScope, [scope]);
    return rows.count;
  }

  /** @throws {InputError} for a malformed query (see `DekScan`; limit 1 to 10,000). */
  async scan(query: DekScan): Promise<DekRecord[]> {
    const rows = await this.#scan<Row>(query, false);
    return rows.map(toRecord);
  }

  /**
   * The ids of `scan(query)`, read from the `(kek_name, kek_ref, id)` index alone.
   *
   * @throws {InputError} for a malformed query (see `DekScan`; limit 1 to 10,000).
   */
  async scanIds(query: DekScan): Promise<string[]> {
    const rows = await this.#scan<{ id: string }>(query, true);
    return rows.map((r) => r.id);
  }

  /**
   * Writes the whole batch in one `UPDATE ... FROM unnest(...)` statement (see the SQL's
   * comment); ids it did not write are conflicts.
   *
   * @throws {InputError} for a malformed entry or an id given twice; nothing is written.
   */
  async compareAndSwap(swaps: readonly DekSwap[]): Promise<DekSwapResult> {
    assertSwaps(swaps);
    if (swaps.length === 0) return { updated: [], conflicted: [] };

    const params = [
      plainArray(swaps.map((s) => s.id)),
      plainArray(swaps.map((s) => s.expectedRevision)),
      textArray(swaps.map((s) => s.expectedKekRef)),
      textArray(swaps.map((s) => s.kekRef)),
      byteaArray(swaps.map((s) => s.wrapped)),
    ];
    const rows = await this.#query<{ id: string }>(this.#q.swap, params);

    const won = new Set<string>();
    for (const row of rows) won.add(row.id);
    const updated: string[] = [];
    const conflicted: string[] = [];
    for (const s of swaps) (won.has(s.id) ? updated : conflicted).push(s.id);
    return { updated, conflicted };
  }

  /** DEK counts per KEK name and ref, in byte order of name then ref. */
  async countByRef(kekName?: KekName): Promise<DekCount[]> {
    assertOptionalKekName(kekName);
    const rows =
      kekName === undefined
        ? await this.#query<CountRow>(this.#q.count, [])
        : await this.#query<CountRow>(this.#q.countByName, [kekName]);
    return rows.map((r) => ({ kekName: r.kek_name, kekRef: r.kek_ref, count: r.count }));
  }

  /** Nothing to release: the client belongs to the caller, who ends it. */
  async close(): Promise<void> {}

  /** One scan page: whole rows, or ids only. */
  async #scan<T>(query: DekScan, idsOnly: boolean): Promise<T[]> {
    assertScan(query);
    const refs = [...new Set(query.kekRefs)];
    if (refs.length === 0) return [];

    const multi = refs.length > 1;
    const params: unknown[] = [query.kekName, multi ? textArray(refs) : refs[0], query.limit];
    if (query.after !== undefined) params.push(query.after);
    if (query.until !== undefined) params.push(query.until);
    const shape = [multi, query.after !== undefined, query.until !== undefined] as const;
    const text = idsOnly ? this.#q.scanIds(...shape) : this.#q.scan(...shape);
    return this.#query<T>(text, params);
  }

  /** Runs one statement, retrying deadlocks, and maps driver errors to rekey errors. */
  async #query<T>(
    text: string,
    params: unknown[],
    dekId?: string,
  ): Promise<T[] & { count: number }> {
    const run = () =>
      this.#sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
        prepare: this.#prepare,
      }) as unknown as Promise<T[] & { count: number }>;
    return this.#run(run, dekId);
  }

  async #run<T>(work: () => Promise<T>, dekId?: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const code = errorCode(error);
        if (code !== undefined && RETRY_STATES.has(code) && attempt < RETRIES) continue;
        throw toRekeyError(error, dekId);
      }
    }
  }
}

interface CountRow {
  kek_name: string;
  kek_ref: string;
  count: number;
}

function toRecord(row: Row): DekRecord {
  return {
    id: row.id,
    scope: row.scope,
    kekName: row.kek_name,
    kekRef: row.kek_ref,
    // A copy: postgres.js returns a Node Buffer, which may be a view of a shared pool slab.
    wrapped: new Uint8Array(row.wrapped),
    revision: row.revision,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
  };
}
