/**
 * Connection and transaction handling for the MySQL store: a pooled connection is returned to
 * the pool after use, or destroyed when it failed at the protocol level; a transaction rolls
 * back on any error and runs again after a deadlock (InnoDB rolled it back, nothing was kept).
 */
import type { Pool, PoolConnection } from 'mysql2/promise';

import { DEADLOCK, mysqlErrorCode, toRekeyError } from './mysql-errors.ts';

/** One write statement carries at most this many bytes of values (below max_allowed_packet). */
const MAX_STATEMENT_BYTES = 4 << 20;
const RETRIES = 5;

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

/** Splits value rows into chunks whose SQL text stays below MAX_STATEMENT_BYTES. */
export function* bySize(rows: readonly unknown[][]): Generator<unknown[][]> {
  let chunk: unknown[][] = [];
  let size = 0;
  for (const row of rows) {
    let bytes = 64;
    for (const v of row) bytes += v instanceof Uint8Array ? 2 * v.length : String(v).length * 4;
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
