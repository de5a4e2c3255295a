import { describe, expect, it } from 'vitest';

import { decryptError, deviceError, isSessionLost } from './device-errors.ts';

/**
 * pkcs11js reports a failed call as an Error whose message is the bare return value name (the
 * SoftHSM suites check that on real errors, e.g. `CKR_PIN_INCORRECT` on a wrong PIN); these
 * tests cover return values SoftHSM cannot be made to produce, such as a removed device.
 */
function ckr(name: string): Error {
  return new Error(name);
}

describe('PKCS#11 return values as rekey errors', () => {
  it.each([
    'CKR_ENCRYPTED_DATA_INVALID',
    'CKR_ENCRYPTED_DATA_LEN_RANGE',
    'CKR_GENERAL_ERROR',
    'CKR_DATA_LEN_RANGE',
    'CKR_FUNCTION_FAILED',
    'CKR_ARGUMENTS_BAD',
  ])('turns %s from C_Decrypt into the one DecryptionError, without a cause', (name) => {
    const error = decryptError(ckr(name));

    expect(error.name).toBe('DecryptionError');
    expect(error.message).toBe('decryption failed');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    'CKR_SESSION_HANDLE_INVALID',
    'CKR_SESSION_CLOSED',
    'CKR_USER_NOT_LOGGED_IN',
    'CKR_TOKEN_NOT_PRESENT',
    'CKR_DEVICE_REMOVED',
    'CKR_DEVICE_ERROR',
    'CKR_CRYPTOKI_NOT_INITIALIZED',
  ])('keeps %s retryable: KekUnavailableError from decrypt and from any other call', (name) => {
    for (const error of [decryptError(ckr(name)), deviceError('encrypt', ckr(name))]) {
      expect(error.name).toBe('KekUnavailableError');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(name);
    }
  });

  it.each(['CKR_PIN_INCORRECT', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED', 'CKR_PIN_LEN_RANGE'])(
    'refuses %s at login with a ConfigError that is not retried',
    (name) => {
      const error = deviceError('login', ckr(name));

      expect(error.name).toBe('ConfigError');
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(`pkcs11 login failed: ${name}`);
    },
  );

  it('says a token lacks a mechanism with ConfigError', () => {
    expect(deviceError('encrypt init', ckr('CKR_MECHANISM_INVALID')).name).toBe('ConfigError');
  });

  it('recognises a lost session or login, bare or inside the rekey error it became', () => {
    expect(isSessionLost(ckr('CKR_SESSION_HANDLE_INVALID'))).toBe(true);
    expect(isSessionLost(deviceError('encrypt', ckr('CKR_USER_NOT_LOGGED_IN')))).toBe(true);
    expect(isSessionLost(deviceError('encrypt', ckr('CKR_DEVICE_REMOVED')))).toBe(false);
    expect(isSessionLost(decryptError(ckr('CKR_ENCRYPTED_DATA_INVALID')))).toBe(false);
    expect(isSessionLost(new TypeError('bad argument'))).toBe(false);
  });
});
