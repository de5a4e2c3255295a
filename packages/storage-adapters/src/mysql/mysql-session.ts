/**
 * Connection and transaction handling for the MySQL store: every statement with values goes out
 * through `send`, which binds them safely for any `sql_mode` (mysql-values.ts); a pooled
 * connection is returned to the pool after use, or destroyed when it failed at the protocol
 * level; a transaction rolls back on any error and runs again after a deadlock (InnoDB rolled it
 * back, nothing was kept).
 */
import type { Pool, PoolConnection, QueryOptions } from 'mysql2/promise';

import { DEADLOCK, mysqlErrorCode, toRekeyError } from './mysql-errors.ts';
import { bindable, boundLength } from './mysql-values.ts';

/** One write statement carries at most this many bytes of values (below max_allowed_packet). */
const MAX_STATEMENT_BYTES = 4 << 20;
const RETRIES = 5;

/**
 * Runs one statement on the pool or a connection and returns its rows or result header. Strings
 * among `values` are bound as `_utf8mb4 X'..'` literals, so the statement reads the same with or
 * without `NO_BACKSLASH_ESCAPES`. Driver errors are passed on unchanged.
 */
export async function send<T>(
  on: Pool | PoolConnection,
  sql: string,
  values: readonly unknown[] = [],
): Promise<T> {
  const [result] = await on.query(reading(sql), bindable(values));
  return result as T;
}

/**
 * Query options that pin how rows come back, whatever the pool was created with: objects keyed
 * by column name, with the driver's standard type conversions.
 */
function reading(sql: string): QueryOptions {
  return { sql, rowsAsArray: false, nestTables: false, typeCast: true };
}

/**
 * Runs `work` on one pooled connection.
 *
 * @throws {StoreUnavailableError} when no connection can be had or it breaks.
 */
export async function withConnection<T>(
  pool: Pool,
  work: (conn: PoolConnection) => Promise<T>,
): Promise<T> {
  let conn: PoolConnection;
  try {
    conn = await pool.getConnection();
  } catch (error) {
    throw toRekeyError(error);
  }
  let broken = false;
  try {
    return await work(conn);
  } catch (error) {
    // A connection that failed at the protocol level must not go back into the pool.
    broken = (error as { fatal?: unknown } | null)?.fatal === true;
    throw toRekeyError(error);
  } finally {
    if (broken) conn.destroy();
    else conn.release();
  }
}

/** Runs `work` in a transaction on one connection, again (up to 5 times) after a deadlock. */
export async function inTransaction<T>(
  pool: Pool,
  work: (conn: PoolConnection) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withConnection(pool, async (conn) => {
        await conn.query('START TRANSACTION');
        try {
          const result = await work(conn);
          await conn.query('COMMIT');
          return result;
        } catch (error) {
          await conn.query('ROLLBACK').catch(() => {});
          throw error;
        }
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      if (mysqlErrorCode(cause) === DEADLOCK && attempt < RETRIES) continue;
      throw error;
    }
  }
}

/** Splits value rows into chunks whose SQL text stays below MAX_STATEMENT_BYTES once bound. */
export function* bySize(rows: readonly unknown[][]): Generator<unknown[][]> {
  let chunk: unknown[][] = [];
  let size = 0;
  for (const row of rows) {
    let bytes = 64;
    for (const v of row) bytes += boundLength(v);
    if (chunk.length > 0 && size + bytes > MAX_STATEMENT_BYTES) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += bytes;
  }
  if (chunk.length > 0) yield chunk;
}
