/**
 * The tiny driver interface the SQLite store needs: the synchronous `prepare`/`exec` surface
 * that better-sqlite3 (Node) and the built-in `node:sqlite` `DatabaseSync` (Deno 2, Node 22.5+)
 * share, so one adapter serves both without a wrapper.
 */
import { DuplicateDekError, RekeyError, StoreUnavailableError } from '@rekey/crypto-core';

/** A value the store binds: numbers, strings and bytes only (never null). */
export type SqliteValue = number | string | Uint8Array;

/** A prepared statement, as both drivers expose it. */
export interface SqliteStatement {
  run(...params: SqliteValue[]): { changes: number | bigint };
  all(...params: SqliteValue[]): unknown[];
}

/**
 * An open SQLite database: a better-sqlite3 `Database` or a `node:sqlite` `DatabaseSync`.
 * Results must come back as numbers (not BigInt: leave `safeIntegers`/`readBigInts` off).
 */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
}

interface DriverError {
  code?: unknown;
  errcode?: unknown;
  message?: unknown;
}

/**
 * The rekey error for a driver error. better-sqlite3 names SQLite's extended result code in
 * `code` (`SQLITE_CONSTRAINT_PRIMARYKEY`), `node:sqlite` gives the number in `errcode` (1555);
 * a closed database is a `TypeError` ("connection is not open") in the first and an
 * `ERR_INVALID_STATE` error ("database is not open") in the second. Busy and locked databases
 * (another process holds the write lock past the busy timeout) are retryable too.
 */
export function toRekeyError(error: unknown, dekId?: string): unknown {
  if (error instanceof RekeyError) return error;
  const e = (error ?? {}) as DriverError;
  const code = typeof e.code === 'string' ? e.code : '';
  const errcode = typeof e.errcode === 'number' ? e.errcode : -1;
  const message = typeof e.message === 'string' ? e.message : '';

  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || errcode === 1555) {
    return new DuplicateDekError(dekId ?? 'unknown', { cause: error });
  }
  if (/\bis not open\b/.test(message) || code === 'ERR_INVALID_STATE') {
    return new StoreUnavailableError('sqlite store unavailable (closed)', { cause: error });
  }
  // SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes keep the low byte.
  if (/^SQLITE_(BUSY|LOCKED)/.test(code) || (errcode & 0xff) === 5 || (errcode & 0xff) === 6) {
    return new StoreUnavailableError('sqlite store unavailable (busy)', { cause: error });
  }
  return error;
}
