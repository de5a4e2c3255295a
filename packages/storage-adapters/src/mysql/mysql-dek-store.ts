/**
 * The MySQL/MariaDB `DekStore`, over a mysql2 promise pool that the caller owns. Runs on Node
 * and Deno. Reads are one statement; a compare-and-swap batch is one transaction holding one
 * locking read and one write statement.
 */
import {
  assertDekId,
  type DekCount,
  type DekRecord,
  type DekScan,
  type DekStore,
  type DekSwap,
  type DekSwapResult,
  InputError,
  type KekName,
  type NewDekRecord,
  StoreUnavailableError,
} from '@rekey/crypto-core';
import type { Pool } from 'mysql2/promise';

import { bytesToId, idToBytes, unionScanParams } from '../id-bytes.ts';
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
import { toRekeyError } from './mysql-errors.ts';
import { MYSQL_MIGRATIONS, mysqlVersionTable, quote } from './mysql-schema.ts';
import { bySize, inTransaction, send, withConnection } from './mysql-session.ts';
import { type MysqlStatements, mysqlStatements, UTC_NOW } from './mysql-sql.ts';

/** Options of {@link MysqlDekStore}. */
export interface MysqlDekStoreOptions {
  /** Table name, `[a-z_][a-z0-9_]*`, at most 48 characters. Default `rekey_deks`. */
  readonly table?: string;
}

interface Row {
  id: Uint8Array;
  scope: string;
  kek_name: string;
  kek_ref: string;
  wrapped: Uint8Array;
  revision: number;
  created_ms: number | string;
  rotated_ms: number | string | null;
}

/**
 * Wrapped DEKs in a MySQL 8 or MariaDB 10.11 InnoDB table (`id BINARY(16)`, see mysql-schema.ts).
 *
 * Every statement goes out through `send` (mysql-session.ts), which binds strings as
 * `_utf8mb4 X'..'` hex literals (mysql-values.ts): mysql2 interpolates values client-side, and
 * its backslash-escaped string literals would read differently, and unsafely, on a server or
 * session with `NO_BACKSLASH_ESCAPES` in `sql_mode`. The store works the same in either mode.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise';
 * const pool = mysql.createPool({ host: 'db', user: 'app', database: 'app', connectionLimit: 4 });
 * const store = new MysqlDekStore(pool, { table: 'rekey_deks' });
 * await store.migrate();
 * ```
 */
export class MysqlDekStore implements DekStore {
  readonly #pool: Pool;
  readonly #table: string;
  readonly #q: MysqlStatements;

  /** @throws {InputError} for a malformed table name. */
  constructor(pool: Pool, options: MysqlDekStoreOptions = {}) {
    const table = options.table ?? 'rekey_deks';
    assertTableName(table);
    this.#pool = pool;
    this.#table = table;
    this.#q = mysqlStatements(table);
  }

  /**
   * Creates the table and `<table>_schema`, or applies the migrations it lacks, under a named
   * lock (`GET_LOCK`) so concurrent workers migrate one at a time.
   */
  async migrate(): Promise<void> {
    const table = this.#table;
    const lock = `rekey:${table}`;
    await withConnection(this.#pool, async (conn) => {
      const got = await send<{ got: number | null }[]>(conn, 'SELECT GET_LOCK(?, 60) AS got', [
        lock,
      ]);
      if (got[0]?.got !== 1) {
        throw new StoreUnavailableError(`mysql store busy: no migration lock on ${table}`);
      }
      try {
        await send(conn, mysqlVersionTable(table));
        const rows = await send<{ version: number }[]>(
          conn,
          `SELECT COALESCE(MAX(version), 0) AS version FROM ${quote(`${table}_schema`)}`,
        );
        const current = Number(rows[0]?.version ?? 0);
        for (const m of MYSQL_MIGRATIONS) {
          if (m.version <= current) continue;
          for (const statement of m.statements(table)) await send(conn, statement);
          await send(conn, `INSERT INTO ${quote(`${table}_schema`)} VALUES (?, UTC_TIMESTAMP(6))`, [
            m.version,
          ]);
        }
      } finally {
        await send(conn, 'SELECT RELEASE_LOCK(?)', [lock]);
      }
    });
  }

  /**
   * Inserts with the server's clock, then reads the row back for its `createdAt`.
   *
   * NOTE: two statements, not one: MySQL has no `INSERT ... RETURNING` (MariaDB does, MySQL 8
   * does not), and the creation time must come from the server so that "oldest first" holds
   * across writers. If the row is deleted in between, the record is built from the input.
   *
   * @throws {InputError} for a malformed record.
   * @throws {DuplicateDekError} when the id is taken.
   */
  async insert(record: NewDekRecord): Promise<DekRecord> {
    assertNewDek(record);
    await this.#query(this.#q.insert, [[insertRow(record)]], record.id);
    const stored = await this.get(record.id);
    // Deleted between the two statements: report what was inserted.
    return (
      stored ?? {
        ...record,
        wrapped: new Uint8Array(record.wrapped),
        revision: 1,
        createdAt: new Date(),
        rotatedAt: null,
      }
    );
  }

  /**
   * Inserts many DEKs in one transaction (all or none), for imports and tests. Not part of the
   * port.
   *
   * @throws {DuplicateDekError} when an id is taken; then nothing is inserted.
   */
  async insertMany(records: readonly NewDekRecord[]): Promise<void> {
    if (!Array.isArray(records) || records.length > MAX_BATCH) {
      throw new InputError(`"records" expected an array of at most ${MAX_BATCH} records`);
    }
    for (const r of records) assertNewDek(r);
    if (records.length === 0) return;
    await inTransaction(this.#pool, async (conn) => {
      for (const chunk of bySize(records.map(insertRow))) {
        await send(conn, this.#q.insert, [chunk]);
      }
    });
  }

  /** @throws {InputError} for a malformed id. */
  async get(id: string): Promise<DekRecord | undefined> {
    assertDekId(id);
    const rows = await this.#query<Row[]>(this.#q.get, [idToBytes(id)]);
    return rows.length === 0 ? undefined : toRecord(rows[0] as Row);
  }

  /** @throws {InputError} for a malformed id or more than 10,000 ids. */
  async getMany(ids: readonly string[]): Promise<DekRecord[]> {
    assertIds(ids);
    if (ids.length === 0) return [];
    const rows = await this.#query<Row[]>(this.#q.getMany, [ids.map(idToBytes)]);
    return rows.map(toRecord);
  }

  /** @throws {InputError} for a malformed scope or KEK name. */
  async findByScope(scope: string, kekName?: KekName): Promise<DekRecord[]> {
    assertText(scope, 'scope', MAX_SCOPE_LENGTH, false);
    assertOptionalKekName(kekName);
    const rows =
      kekName === undefined
        ? await this.#query<Row[]>(this.#q.findByScope, [scope])
        : await this.#query<Row[]>(this.#q.findByScopeAndName, [scope, kekName]);
    return rows.map(toRecord);
  }

  /** @throws {InputError} for a malformed id. */
  async delete(id: string): Promise<boolean> {
    assertDekId(id);
    const result = await this.#query<{ affectedRows: number }>(this.#q.delete, [idToBytes(id)]);
    return result.affectedRows > 0;
  }

  /** @throws {InputError} for a malformed scope. */
  async deleteScope(scope: string): Promise<number> {
    assertText(scope, 'scope', MAX_SCOPE_LENGTH, false);
    const result = await this.#query<{ affectedRows: number }>(this.#q.deleteScope, [scope]);
    return result.affectedRows;
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
    const rows = await this.#scan<{ id: Uint8Array }>(query, true);
    return rows.map((r) => bytesToId(r.id));
  }

  /**
   * One transaction: lock the batch's rows (`SELECT ... FOR UPDATE`), keep those whose revision
   * and ref match, write them in one `INSERT ... ON DUPLICATE KEY UPDATE`, commit. The locked
   * read is what makes the updated/conflicted split exact. A deadlock rolls the whole
   * transaction back and it runs again.
   *
   * @throws {InputError} for a malformed entry or an id given twice; nothing is written.
   */
  async compareAndSwap(swaps: readonly DekSwap[]): Promise<DekSwapResult> {
    assertSwaps(swaps);
    if (swaps.length === 0) return { updated: [], conflicted: [] };

    const won = await inTransaction(this.#pool, async (conn) => {
      const ids = swaps.map((s) => idToBytes(s.id));
      type Locked = { id: Uint8Array; revision: number; kek_ref: string };
      const locked = await send<Locked[]>(conn, this.#q.lockForSwap, [ids]);
      const current = new Map<string, Locked>();
      for (const r of locked) current.set(bytesToId(r.id), r);

      const winners = new Set<string>();
      const rows: unknown[][] = [];
      for (const s of swaps) {
        const now = current.get(s.id);
        if (now?.revision !== s.expectedRevision || now.kek_ref !== s.expectedKekRef) continue;
        winners.add(s.id);
        rows.push([idToBytes(s.id), '', '', s.kekRef, s.wrapped, UTC_NOW]);
      }
      for (const chunk of bySize(rows)) await send(conn, this.#q.swap, [chunk]);
      return winners;
    });

    const updated: string[] = [];
    const conflicted: string[] = [];
    for (const s of swaps) (won.has(s.id) ? updated : conflicted).push(s.id);
    return { updated, conflicted };
  }

  /** DEK counts per KEK name and ref, in byte order of name then ref. */
  async countByRef(kekName?: KekName): Promise<DekCount[]> {
    assertOptionalKekName(kekName);
    type CountRow = { kek_name: string; kek_ref: string; count: number | string };
    const rows =
      kekName === undefined
        ? await this.#query<CountRow[]>(this.#q.count, [])
        : await this.#query<CountRow[]>(this.#q.countByName, [kekName]);
    return rows.map((r) => ({ kekName: r.kek_name, kekRef: r.kek_ref, count: Number(r.count) }));
  }

  /** Nothing to release: the pool belongs to the caller, who ends it. */
  async close(): Promise<void> {}

  /** One scan page: whole rows, or ids only. */
  async #scan<T>(query: DekScan, idsOnly: boolean): Promise<T[]> {
    assertScan(query);
    const refs = [...new Set(query.kekRefs)];
    if (refs.length === 0) return [];

    const shape = [refs.length, query.after !== undefined, query.until !== undefined] as const;
    const text = idsOnly ? this.#q.scanIds(...shape) : this.#q.scan(...shape);
    return this.#query<T[]>(text, unionScanParams(query, refs));
  }

  async #query<T>(text: string, params: unknown[], dekId?: string): Promise<T> {
    try {
      return await send<T>(this.#pool, text, params);
    } catch (error) {
      throw toRekeyError(error, dekId);
    }
  }
}

function insertRow(r: NewDekRecord): unknown[] {
  return [idToBytes(r.id), r.scope, r.kekName, r.kekRef, r.wrapped, UTC_NOW];
}

function toRecord(row: Row): DekRecord {
  return {
    id: bytesToId(row.id),
    scope: row.scope,
    kekName: row.kek_name,
    kekRef: row.kek_ref,
    // A copy: mysql2 returns a Node Buffer, which may be a view of a larger packet buffer.
    wrapped: new Uint8Array(row.wrapped),
    revision: row.revision,
    createdAt: new Date(Number(row.created_ms)),
    rotatedAt: row.rotated_ms === null ? null : new Date(Number(row.rotated_ms)),
  };
}
