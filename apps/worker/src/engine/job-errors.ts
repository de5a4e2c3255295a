/**
 * Errors as they leave a job: BullMQ stores the message and stack in Redis, so they are reduced
 * to the error's class name, its stable code and, for rekey errors, their own message (which by
 * contract names ids and versions only). Driver errors may quote query parameters: their
 * messages are dropped.
 */
import { RekeyError } from '@rekey/crypto-core';

/** A key-free error to throw from a job processor. */
export function sanitizeJobError(error: unknown): Error {
  const e = (error ?? {}) as { name?: unknown; code?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code =
    typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : 'UNKNOWN';
  const message = error instanceof RekeyError ? `${code}: ${error.message}` : `${code}: ${name}`;
  const safe = new Error(message);
  safe.name = name;
  (safe as Error & { code: string }).code = code;
  safe.stack = `${name}: ${message}`;
  return safe;
}

/** The stable code of an error for logs: its `code`, else its class name. */
export function errorCode(error: unknown): string {
  const e = (error ?? {}) as { name?: unknown; code?: unknown };
  if (typeof e.code === 'string' || typeof e.code === 'number') return String(e.code);
  return typeof e.name === 'string' ? e.name : 'UNKNOWN';
}
