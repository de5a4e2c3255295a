import { describe, expect, it } from 'vitest';

import { isThrottling, kmsErrorNameOf, mapKmsError } from './kms-errors.ts';

/** A service error as the SDK builds one from an `{"__type","message"}` answer. */
function serviceError(name: string): Error {
  return Object.assign(new Error('from kms'), { name, $fault: 'client', $metadata: {} });
}

const context = { operation: 'Decrypt', ref: 'aws-kms:arn:aws:kms:x', retryAfterMs: 250 };

describe('mapKmsError', () => {
  it.each([
    ['ThrottlingException', 'KEK_RATE_LIMITED'],
    ['DisabledException', 'KEK_UNAVAILABLE'],
    ['KMSInvalidStateException', 'KEK_UNAVAILABLE'],
    ['KeyUnavailableException', 'KEK_UNAVAILABLE'],
    ['KMSInternalException', 'KEK_UNAVAILABLE'],
    ['InvalidCiphertextException', 'DECRYPTION_FAILED'],
    ['IncorrectKeyException', 'DECRYPTION_FAILED'],
    ['NotFoundException', 'KEK_REF_UNKNOWN'],
    ['AccessDeniedException', 'CONFIG_INVALID'],
    ['ValidationException', 'CONFIG_INVALID'],
  ])('maps %s to %s', (name, code) => {
    expect(mapKmsError(serviceError(name), context).code).toBe(code);
  });

  it('maps a network failure (no service fault) to a retryable KekUnavailableError', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

    const error = mapKmsError(refused, context);

    expect(error.code).toBe('KEK_UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });

  it('carries the suggested delay on a rate-limit error', () => {
    const error = mapKmsError(serviceError('ThrottlingException'), context);

    expect(error).toMatchObject({ retryAfterMs: 250, retryable: true });
  });

  it('says nothing but "decryption failed" when KMS refuses a ciphertext', () => {
    expect(mapKmsError(serviceError('InvalidCiphertextException'), context).message).toBe(
      'decryption failed',
    );
  });

  it('recognises throttling by the service error name only', () => {
    expect(isThrottling(serviceError('ThrottlingException'))).toBe(true);
    expect(isThrottling(new Error('ThrottlingException'))).toBe(false);
  });

  it('names the KMS error behind a mapped error, and none behind a network failure', () => {
    const taken = mapKmsError(serviceError('AlreadyExistsException'), context);
    const refused = mapKmsError(new Error('connect ECONNREFUSED'), context);

    expect(taken.code).toBe('CONFIG_INVALID');
    expect(kmsErrorNameOf(taken)).toBe('AlreadyExistsException');
    expect(kmsErrorNameOf(serviceError('NotFoundException'))).toBe('NotFoundException');
    expect(kmsErrorNameOf(refused)).toBeUndefined();
  });
});
