/**
 * Errors raised by rekey. Every error carries a stable string `code`; code that crosses a process
 * boundary (queue jobs, HTTP) branches on `code`, never on `instanceof`.
 *
 * Messages name fields, ids and versions only: never key bytes, plaintext, tokens or connection
 * strings.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type RekeyErrorCode =
  | 'DECRYPTION_FAILED'
  | 'FORMAT_INVALID'
  | 'CONFIG_INVALID'
  | 'INPUT_INVALID'
  | 'KEK_UNAVAILABLE'
  | 'KEK_RATE_LIMITED'
  | 'KEK_REF_UNKNOWN'
  | 'KEK_REF_DISABLED'
  | 'DEK_NOT_FOUND'
  | 'DEK_DUPLICATE'
  | 'STORE_UNAVAILABLE';

/** Base class of every rekey error. */
export class RekeyError extends Error {
  override readonly name: string = 'RekeyError';
  readonly code: RekeyErrorCode;
  /** True when the same call may succeed later (a KMS outage, a dropped connection). */
  readonly retryable: boolean;

  constructor(
    code: RekeyErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * Authentication failed: wrong key, wrong context, tampered bytes or a failed commitment check.
 * The message is the same for every cause, so it tells an attacker nothing.
 */
export class DecryptionError extends RekeyError {
  override readonly name = 'DecryptionError';
  constructor(options?: { cause?: unknown }) {
    super('DECRYPTION_FAILED', 'decryption failed', options);
  }
}

/** Bytes that are not a well-formed rekey envelope: truncated, unknown version or suite, bad length. */
export class FormatError extends RekeyError {
  override readonly name = 'FormatError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('FORMAT_INVALID', message, options);
  }
}

/** A configuration that cannot work: a missing setting, a bad value, a wrong key size. */
export class ConfigError extends RekeyError {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A caller passed a value the port does not accept: a malformed id, an empty blob, a bad ref. */
export class InputError extends RekeyError {
  override readonly name = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT_INVALID', message, options);
  }
}

/** The KEK's home (KMS, HSM, keyring) cannot be reached or refuses to work now. Retryable. */
export class KekUnavailableError extends RekeyError {
  override readonly name = 'KekUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('KEK_UNAVAILABLE', message, { ...options, retryable: true });
  }
}

/** The KEK's home throttled the request. Retryable after `retryAfterMs`. */
export class RateLimitError extends RekeyError {
  override readonly name = 'RateLimitError';
  /** Suggested wait before the next attempt, in milliseconds. */
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('KEK_RATE_LIMITED', message, { ...options, retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

/** A KEK ref that the provider does not know, or a version that is disabled for unwrapping. */
export class KekRefError extends RekeyError {
  override readonly name = 'KekRefError';
  /** The ref that was refused (a ref names a key version, it is not key material). */
  readonly kekRef: string;
  constructor(
    code: 'KEK_REF_UNKNOWN' | 'KEK_REF_DISABLED',
    kekRef: string,
    options?: { cause?: unknown },
  ) {
    const what = code === 'KEK_REF_UNKNOWN' ? 'unknown kek ref' : 'kek ref is disabled';
    super(code, `${what}: ${kekRef}`, options);
    this.kekRef = kekRef;
  }
}

/** No DEK with this id exists (it was never stored, or it was shredded). */
export class DekNotFoundError extends RekeyError {
  override readonly name = 'DekNotFoundError';
  readonly dekId: string;
  constructor(dekId: string, options?: { cause?: unknown }) {
    super('DEK_NOT_FOUND', `dek not found: ${dekId}`, options);
    this.dekId = dekId;
  }
}

/** A DEK with this id is already stored. */
export class DuplicateDekError extends RekeyError {
  override readonly name = 'DuplicateDekError';
  readonly dekId: string;
  constructor(dekId: string, options?: { cause?: unknown }) {
    super('DEK_DUPLICATE', `dek already exists: ${dekId}`, options);
    this.dekId = dekId;
  }
}

/** The DEK store cannot be reached: a closed pool, a dropped connection. Retryable. */
export class StoreUnavailableError extends RekeyError {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, { ...options, retryable: true });
  }
}

/** True when `error` is a rekey error with the given code, even after crossing a process boundary. */
export function hasErrorCode(error: unknown, code: RekeyErrorCode): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
