/**
 * The SQLite `DekStore` over a synchronous driver: better-sqlite3 12 on Node, or the built-in
 * `node:sqlite` on Deno 2 (and Node 22.5+). Calls run synchronously inside async methods; a
 * write batch is one transaction.
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
} from '@rekey/crypto-core';

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
import {
  type SqliteDatabase,
  type SqliteStatement,
  type SqliteValue,
  toRekeyError,
} from './sqlite-database.ts';
import { COLUMNS, newRecord, type Row, toRecord } from './sqlite-rows.ts';
import { quoteSqlite, SQLITE_MIGRATIONS, sqliteVersionTable } from './sqlite-schema.ts';

/** Options of {@link SqliteDekStore}. */
export interface SqliteDekStoreOptions {
  /** Table name, `[a-z_][a-z0-9_]*`, at most 48 characters. Default `rekey_deks`. */
  readonly table?: string;
}

/**
 * Wrapped DEKs in a SQLite table (`id` a 16-byte BLOB, see sqlite-schema.ts). Open the database
 * with WAL (`PRAGMA journal_mode = WAL`) and a busy timeout when several processes share it.
 *
 * NOTE: the store begins its own transactions (`BEGIN IMMEDIATE`), so it cannot be called while
 * the caller holds a transaction open on the same connection.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';          // Node
 * // import { DatabaseSync } from 'node:sqlite';  // Deno 2, Node 22.5+
 * const db = new Database('app.db');
 * db.exec('PRAGMA journal_mode = WAL');
 * const store = new SqliteDekStore(db, { table: 'rekey_deks' });
 * await store.migrate();
 * ```
 */
export class SqliteDekStore implements DekStore {
  readonly #db: SqliteDatabase;
  readonly #table: string;
  readonly #t: string;
  readonly #statements = new Map<string, SqliteStatement>();
  #lastMicros = 0;

  /** @throws {InputError} for a malformed table name. */
  constructor(db: SqliteDatabase, options: SqliteDekStoreOptions = {}) {
    const table = options.table ?? 'rekey_deks';
    assertTableName(table);
    this.#db = db;
    this.#table = table;
    this.#t = quoteSqlite(table);
  }

  /** Creates the table and `<table>_schema`, or applies the migrations it lacks, atomically. */
  async migrate(): Promise<void> {
    const table = this.#table;
    const versions = quoteSqlite(`${table}_schema`);
    this.#transaction(() => {
      this.#db.exec(sqliteVersionTable(table));
      const [row] = this.#db
        .prepare(`SELECT coalesce(max(version), 0) AS version FROM ${versions}`)
        .all() as { version: number }[];
      for (const m of SQLITE_MIGRATIONS) {
        if (m.version <= (row?.version ?? 0)) continue;
        for (const statement of m.statements(table)) this.#db.exec(statement);
        this.#db
          .prepare(`INSERT INTO ${versions} (version, applied_at) VALUES (?, ?)`)
          .run(m.version, Date.now());
      }
    });
    // Statements prepared against an older schema must not be reused.
    this.#statements.clear();
  }

  /**
   * @throws {InputError} for a malformed record.
   * @throws {DuplicateDekError} when the id is taken.
   */
  async insert(record: NewDekRecord): Promise<DekRecord> {
    assertNewDek(record);
    const createdAt = this.#nowMicros();
    this.#guard(() => this.#insertRow(record, createdAt), record.id);
    return newRecord(record, createdAt);
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
    this.#transaction(() => {
      for (const r of records) this.#guard(() => this.#insertRow(r, this.#nowMicros()), r.id);
    });
  }

  /** @throws {InputError} for a malformed id. */
  async get(id: string): Promise<DekRecord | undefined> {
    assertDekId(id);
    const rows = this.#all(`SELECT ${COLUMNS} FROM ${this.#t} WHERE id = ?`, [idToBytes(id)]);
    return rows.length === 0 ? undefined : toRecord(rows[0] as Row);
  }

  /** One read transaction of primary-key lookups (no round trips to save in process). */
  async getMany(ids: readonly string[]): Promise<DekRecord[]> {
    assertIds(ids);
    const text = `SELECT ${COLUMNS} FROM ${this.#t} WHERE id = ?`;
    return this.#transaction(() => {
      const out: DekRecord[] = [];
      for (const id of new Set(ids)) {
        const [row] = this.#all(text, [idToBytes(id)]);
        if (row !== undefined) out.push(toRecord(row));
      }
      return out;
    }, 'DEFERRED');
  }

  /** @throws {InputError} for a malformed scope or KEK name. */
  async findByScope(scope: string, kekName?: KekName): Promise<DekRecord[]> {
    assertText(scope, 'scope', MAX_SCOPE_LENGTH, false);
    assertOptionalKekName(kekName);
    const byName = kekName === undefined ? '' : ' AND kek_name = ?';
    const text = `SELECT ${COLUMNS} FROM ${this.#t}
      WHERE scope = ?${byName} ORDER BY created_at, id`;
    const rows = this.#all(text, kekName === undefined ? [scope] : [scope, kekName]);
    return rows.map(toRecord);
  }

  /** @throws {InputError} for a malformed id. */
  async delete(id: string): Promise<boolean> {
    assertDekId(id);
    return this.#run(`DELETE FROM ${this.#t} WHERE id = ?`, [idToBytes(id)]) > 0;
  }

  /** @throws {InputError} for a malformed scope. */
  async deleteScope(scope: string): Promise<number> {
    assertText(scope, 'scope', MAX_SCOPE_LENGTH, false);
    return this.#run(`DELETE FROM ${this.#t} WHERE scope = ?`, [scope]);
  }

  /**
   * Keyset pagination (`id > after ORDER BY id LIMIT n`, never OFFSET) on the
   * `(kek_name, kek_ref, id)` index; several refs are one ordered, limited branch each, merged
   * by UNION ALL, so no branch reads past its first `limit` rows.
   *
   * @throws {InputError} for a malformed query (see `DekScan`; limit 1 to 10,000).
   */
  async scan(query: DekScan): Promise<DekRecord[]> {
    return this.#scan(query, COLUMNS).map(toRecord);
  }

  /**
   * The ids of `scan(query)`, read from the `(kek_name, kek_ref, id)` index alone (a covering
   * index: SQLite never visits the table's rows).
   *
   * @throws {InputError} for a malformed query (see `DekScan`; limit 1 to 10,000).
   */
  async scanIds(query: DekScan): Promise<string[]> {
    return this.#scan(query, 'id').map((row) => bytesToId(row.id));
  }

  /**
   * One `BEGIN IMMEDIATE` transaction of guarded single-row updates: SQLite runs in process,
   * so a statement per row costs no round trip, and the write lock makes the batch atomic
   * against every other connection.
   *
   * @throws {InputError} for a malformed entry or an id given twice; nothing is written.
   */
  async compareAndSwap(swaps: readonly DekSwap[]): Promise<DekSwapResult> {
    assertSwaps(swaps);
    const statement = this.#prepare(`UPDATE ${this.#t}
      SET kek_ref = ?, wrapped = ?, revision = revision + 1, rotated_at = ?
      WHERE id = ? AND revision = ? AND kek_ref = ?`);
    const now = this.#nowMicros();
    return this.#transaction(() => {
      const updated: string[] = [];
      const conflicted: string[] = [];
      for (const s of swaps) {
        const { changes } = statement.run(
          s.kekRef,
          s.wrapped,
          now,
          idToBytes(s.id),
          s.expectedRevision,
          s.expectedKekRef,
        );
        (Number(changes) === 1 ? updated : conflicted).push(s.id);
      }
      return { updated, conflicted };
    });
  }

  /** DEK counts per KEK name and ref, in byte order of name then ref. */
  async countByRef(kekName?: KekName): Promise<DekCount[]> {
    assertOptionalKekName(kekName);
    const where = kekName === undefined ? '' : ' WHERE kek_name = ?';
    const rows = this.#all(
      `SELECT kek_name, kek_ref, count(*) AS count FROM ${this.#t}${where}
       GROUP BY kek_name, kek_ref ORDER BY kek_name, kek_ref`,
      kekName === undefined ? [] : [kekName],
    ) as unknown as { kek_name: string; kek_ref: string; count: number }[];
    return rows.map((r) => ({ kekName: r.kek_name, kekRef: r.kek_ref, count: Number(r.count) }));
  }

  /** Nothing to release: the database belongs to the caller, who closes it. */
  async close(): Promise<void> {}

  /**
   * Epoch microseconds: the wall clock's milliseconds, plus 1 µs per earlier call in the same
   * millisecond on this store, so creation order is total and times never run backwards.
   */
  #nowMicros(): number {
    this.#lastMicros = Math.max(Date.now() * 1000, this.#lastMicros + 1);
    return this.#lastMicros;
  }

  #insertRow(r: NewDekRecord, createdAt: number): void {
    this.#prepare(`INSERT INTO ${this.#t}
      (id, scope, kek_name, kek_ref, wrapped, revision, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)`).run(
      idToBytes(r.id),
      r.scope,
      r.kekName,
      r.kekRef,
      r.wrapped,
      createdAt,
    );
  }

  /** One scan page of `columns` (every column, or `id` only). */
  #scan(query: DekScan, columns: string): Row[] {
    assertScan(query);
    const refs = [...new Set(query.kekRefs)];
    if (refs.length === 0) return [];

    const after = query.after === undefined ? '' : ' AND id > ?';
    const until = query.until === undefined ? '' : ' AND id <= ?';
    const branch = `SELECT ${columns} FROM ${this.#t}
      WHERE kek_name = ? AND kek_ref = ?${after}${until} ORDER BY id LIMIT ?`;
    const text =
      refs.length > 1
        ? `${refs.map(() => `SELECT * FROM (${branch})`).join(' UNION ALL ')} ORDER BY id LIMIT ?`
        : branch;
    return this.#all(text, unionScanParams(query, refs));
  }

  #prepare(text: string): SqliteStatement {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#guard(() => this.#db.prepare(text));
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #all(text: string, params: SqliteValue[]): Row[] {
    return this.#guard(() => this.#prepare(text).all(...params) as Row[]);
  }

  #run(text: string, params: SqliteValue[]): number {
    return this.#guard(() => Number(this.#prepare(text).run(...params).changes));
  }

  #guard<T>(work: () => T, dekId?: string): T {
    try {
      return work();
    } catch (error) {
      throw toRekeyError(error, dekId);
    }
  }

  #transaction<T>(work: () => T, mode: 'IMMEDIATE' | 'DEFERRED' = 'IMMEDIATE'): T {
    this.#guard(() => this.#db.exec(`BEGIN ${mode}`));
    try {
      const result = work();
      this.#guard(() => this.#db.exec('COMMIT'));
      return result;
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // Already rolled back by SQLite, or the connection is gone: the error below says why.
      }
      throw toRekeyError(error);
    }
  }
}
