/**
 * How AWS KMS errors become rekey errors. The SDK names each service error after its
 * `__type`; anything without a known name (a refused connection, a timeout) is a network
 * failure. Messages carry the operation, the error name and the ref, never request data.
 */
import {
  ConfigError,
  DecryptionError,
  type KekRef,
  KekRefError,
  KekUnavailableError,
  RateLimitError,
  type RekeyError,
} from '@rekey/crypto-core';

/** What was being done when KMS failed. */
export interface KmsCallContext {
  /** The KMS operation, for example `Encrypt`. */
  readonly operation: string;
  /** The ref concerned, if any: named in `KekRefError` and in messages. */
  readonly ref?: KekRef;
  /** The wait suggested by a `RateLimitError`. */
  readonly retryAfterMs: number;
}

const UNAVAILABLE = new Set([
  'DisabledException',
  'KMSInvalidStateException',
  'KeyUnavailableException',
  'DependencyTimeoutException',
  'KMSInternalException',
  'CustomKeyStoreInvalidStateException',
]);

const UNDECRYPTABLE = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

const MISCONFIGURED = new Set([
  'AccessDeniedException',
  'AlreadyExistsException',
  'InvalidArnException',
  'InvalidKeyUsageException',
  'LimitExceededException',
  'NotAuthorizedException',
  'UnrecognizedClientException',
  'UnsupportedOperationException',
  'ValidationException',
]);

/** True when KMS throttled the call, so that waiting and retrying helps. */
export function isThrottling(error: unknown): boolean {
  const name = errorName(error);
  return name === 'ThrottlingException' || name === 'ThrottledException';
}

/**
 * The rekey error for a failed KMS call:
 * `ThrottlingException` -> `RateLimitError`; `DisabledException`, `KMSInvalidStateException`,
 * `KeyUnavailableException` and network failures -> `KekUnavailableError`;
 * `InvalidCiphertextException`, `IncorrectKeyException` -> `DecryptionError`;
 * `NotFoundException` -> `KekRefError` (`KEK_REF_UNKNOWN`) when a ref is concerned; access,
 * validation and quota errors -> `ConfigError`.
 */
export function mapKmsError(error: unknown, context: KmsCallContext): RekeyError {
  const name = errorName(error) ?? 'network error';
  const on = context.ref === undefined ? '' : ` (${context.ref})`;
  const message = `aws kms ${context.operation} failed: ${name}${on}`;

  if (isThrottling(error))
    return new RateLimitError(message, context.retryAfterMs, { cause: error });
  if (UNDECRYPTABLE.has(name)) return new DecryptionError({ cause: error });
  if (name === 'NotFoundException' && context.ref !== undefined) {
    return new KekRefError('KEK_REF_UNKNOWN', context.ref, { cause: error });
  }
  if (MISCONFIGURED.has(name) || name === 'NotFoundException') {
    return new ConfigError(message, { cause: error });
  }
  if (UNAVAILABLE.has(name)) return new KekUnavailableError(message, { cause: error });
  // Unknown names include every network failure (ECONNREFUSED, timeouts): retryable.
  return new KekUnavailableError(message, { cause: error });
}

/**
 * The KMS error name behind an error: a service error's own name, or that of the service error
 * a mapped rekey error carries as its `cause`. Undefined for network failures.
 */
export function kmsErrorNameOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return errorName(error) ?? errorName((error as { cause?: unknown }).cause);
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; $fault?: unknown; $metadata?: unknown };
  // Only service errors carry `$fault`; a plain Error named "Error" is a transport failure.
  if (e.$fault === undefined) return undefined;
  return typeof e.name === 'string' ? e.name : undefined;
}
