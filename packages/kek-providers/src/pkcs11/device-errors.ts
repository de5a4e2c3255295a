/**
 * How PKCS#11 return values (`CKR_*`) become rekey errors. One table for every call the provider
 * makes, so a device failure means the same thing whichever call met it.
 */
import { ConfigError, DecryptionError, KekUnavailableError } from '@rekey/crypto-core';

/** What the provider does about a failed PKCS#11 call. */
export type DeviceFailure =
  /** The session, the login or the token is gone: retry later (KekUnavailableError). */
  | 'unavailable'
  /** The PIN is wrong, locked or expired: retrying would only burn PIN attempts (ConfigError). */
  | 'pin'
  /** The key refuses the operation: a disabled version (KekRefError `KEK_REF_DISABLED`). */
  | 'key-disabled'
  /** The cached object handle is stale: look the key up again. */
  | 'stale-handle'
  /** The token lacks the mechanism or its parameters (ConfigError). */
  | 'mechanism'
  /** Anything else the device refused: bad data, bad tag, bad length. */
  | 'refused';

const UNAVAILABLE = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_COUNT',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_HOST_MEMORY',
  'CKR_SLOT_ID_INVALID',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_CANT_LOCK',
  'CKR_FUNCTION_CANCELED',
  'CKR_OPERATION_ACTIVE',
  'CKR_USER_ANOTHER_ALREADY_LOGGED_IN',
  'CKR_USER_PIN_NOT_INITIALIZED',
  'CKR_FIPS_SELF_TEST_FAILED',
]);

const PIN = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_EXPIRED',
  'CKR_PIN_LOCKED',
]);

const STALE = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID']);

const MECHANISM = new Set([
  'CKR_MECHANISM_INVALID',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_KEY_TYPE_INCONSISTENT',
]);

/**
 * The `CKR_*` name of a pkcs11js error (`Pkcs11Error.message` is the bare name), or `undefined`
 * for anything that is not a PKCS#11 return value (a `TypeError` from a bad argument, say).
 */
export function returnValueName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^(CKR_[A-Z0-9_]+)/.exec(error.message);
  return match?.[1];
}

/** The class of a failed call; non-PKCS#11 errors count as `unavailable`. */
export function classifyDeviceError(error: unknown): DeviceFailure {
  const name = returnValueName(error);
  if (name === undefined) return 'unavailable';
  if (UNAVAILABLE.has(name)) return 'unavailable';
  if (PIN.has(name)) return 'pin';
  if (name === 'CKR_KEY_FUNCTION_NOT_PERMITTED') return 'key-disabled';
  if (STALE.has(name)) return 'stale-handle';
  if (MECHANISM.has(name)) return 'mechanism';
  return 'refused';
}

const SESSION_LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
]);

/**
 * True when `error` (or the device error it wraps) says the session or its login is gone while
 * the token is still there: the application's sessions were closed or the token logged out. A
 * fresh session and a new login fix it.
 */
export function isSessionLost(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  for (const e of [error, cause]) {
    const name = returnValueName(e);
    if (name !== undefined && SESSION_LOST.has(name)) return true;
  }
  return false;
}

/**
 * True when the session that met `error` must not go back to the pool: the session or token is
 * gone, or an operation may still be active on it. A decrypt that fails on a bad tag leaves the
 * session clean (PKCS#11 v2.40 section 5.9: a failed `C_Decrypt` ends the operation).
 */
export function isSessionFatal(error: unknown): boolean {
  const kind = classifyDeviceError(error);
  return kind === 'unavailable' || kind === 'pin';
}

/**
 * The rekey error for a failed call other than the decryption itself. Messages name the call and
 * the return value, never the PIN or key bytes.
 */
export function deviceError(operation: string, error: unknown): KekUnavailableError | ConfigError {
  const name = returnValueName(error) ?? 'native error';
  switch (classifyDeviceError(error)) {
    case 'pin':
      return new ConfigError(`pkcs11 ${operation} failed: ${name}`, { cause: error });
    case 'mechanism':
      return new ConfigError(`pkcs11 token does not support ${operation}: ${name}`, {
        cause: error,
      });
    default:
      return new KekUnavailableError(`pkcs11 ${operation} failed: ${name}`, { cause: error });
  }
}

/**
 * The rekey error for a failed `C_Decrypt`: session and token failures stay retryable, and every
 * other refusal (CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE, SoftHSM's
 * CKR_GENERAL_ERROR on a bad tag, ...) is the one `DecryptionError`, with no cause attached so it
 * says nothing about which check failed.
 */
export function decryptError(error: unknown): KekUnavailableError | DecryptionError {
  if (classifyDeviceError(error) === 'unavailable') {
    return new KekUnavailableError(`pkcs11 decrypt failed: ${returnValueName(error) ?? 'error'}`, {
      cause: error,
    });
  }
  return new DecryptionError();
}
