/**
 * Maps postgres.js and PostgreSQL errors onto rekey's error classes. Messages carry the error
 * code only: never a host, a user or a connection string (the driver error stays in `cause`).
 */
import { DuplicateDekError, RekeyError, StoreUnavailableError } from '@rekey/crypto-core';

/** Codes postgres.js and Node's sockets use when a connection cannot be made or was lost. */
const CONNECTION_CODES = new Set([
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECTION_CLOSED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that mean "try again later": admin or crash shutdown, cannot connect now, too many
 * connections, and class 08 (connection exception).
 * https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** SQLSTATEs after which the same statement may simply be run again: nothing was written. */
export const RETRY_STATES: ReadonlySet<string> = new Set(['40P01', '40001']);

/** The `code` of a driver error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The rekey error for a driver error: `DuplicateDekError` for a unique violation (with the id
 * the caller knows, or the one PostgreSQL names), `StoreUnavailableError` for a lost or refused
 * connection. Anything else (a bug, a missing table) is returned unchanged.
 */
export function toRekeyError(error: unknown, dekId?: string): unknown {
  if (error instanceof RekeyError) return error;
  const code = errorCode(error);
  if (code === undefined) return error;

  if (code === '23505') {
    const detail = String((error as { detail?: unknown }).detail ?? '');
    const named = /\(id\)=\(([0-9a-f-]{36})\)/.exec(detail)?.[1];
    return new DuplicateDekError(dekId ?? named ?? 'unknown', { cause: error });
  }
  if (CONNECTION_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08')) {
    return new StoreUnavailableError(`postgres store unavailable (${code})`, { cause: error });
  }
  return error;
}
