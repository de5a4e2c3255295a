/**
 * Maps mysql2 and MySQL/MariaDB errors onto rekey's error classes. Messages carry the error
 * code only, never a host, user or connection string (the driver error stays in `cause`).
 */
import { DuplicateDekError, RekeyError, StoreUnavailableError } from '@rekey/crypto-core';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/** Deadlock: InnoDB rolled the transaction back, so running it again is safe. */
export const DEADLOCK = 'ER_LOCK_DEADLOCK';

interface DriverError {
  code?: unknown;
  fatal?: unknown;
  message?: unknown;
}

/** The `code` of a driver error, if it has one. */
export function mysqlErrorCode(error: unknown): string | undefined {
  const code = (error as DriverError | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The rekey error for a driver error: `DuplicateDekError` for a duplicate key,
 * `StoreUnavailableError` for a refused, lost or closed connection (mysql2 marks those `fatal`,
 * and a closed pool says so only in its message). Anything else is returned unchanged.
 */
export function toRekeyError(error: unknown, dekId?: string): unknown {
  if (error instanceof RekeyError) return error;
  const e = (error ?? {}) as DriverError;
  const code = mysqlErrorCode(error);

  if (code === 'ER_DUP_ENTRY') return new DuplicateDekError(dekId ?? 'unknown', { cause: error });
  if ((code !== undefined && CONNECTION_CODES.has(code)) || e.fatal === true) {
    return new StoreUnavailableError(`mysql store unavailable (${code ?? 'fatal'})`, {
      cause: error,
    });
  }
  if (typeof e.message === 'string' && /pool is closed|closed state/i.test(e.message)) {
    return new StoreUnavailableError('mysql store unavailable (closed)', { cause: error });
  }
  return error;
}
