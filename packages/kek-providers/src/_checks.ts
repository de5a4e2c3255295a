/**
 * Input guards shared by the providers of this package. Internal: not exported from any subpath.
 */
import { assertDekId, type DekBinding, InputError } from '@rekey/crypto-core';

/** Length of every DEK rekey wraps: an AES-256 key. */
export const DEK_LENGTH = 32;

/**
 * Throws unless `dek` is a 32-byte `Uint8Array`.
 *
 * @throws {InputError} naming the field and the length, never the bytes.
 */
export function checkDek(dek: unknown): asserts dek is Uint8Array {
  if (!(dek instanceof Uint8Array)) throw new InputError('"dek" expected a Uint8Array');
  if (dek.length !== DEK_LENGTH) {
    throw new InputError(`"dek" expected ${DEK_LENGTH} bytes, got ${dek.length}`);
  }
}

/**
 * Throws unless the binding has a canonical DEK id, a string scope and a non-empty KEK name.
 *
 * @throws {InputError} naming the field.
 */
export function checkBinding(binding: DekBinding): void {
  if (typeof binding !== 'object' || binding === null) {
    throw new InputError('"binding" expected an object');
  }
  assertDekId(binding.dekId, 'dekId');
  if (typeof binding.scope !== 'string') throw new InputError('"scope" expected a string');
  checkKekName(binding.kekName);
}

/** KEK names every provider accepts: they become file keys, HKDF info and KMS alias parts. */
export const KEK_NAME: RegExp = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Throws unless `kekName` is 1 to 128 characters of `A-Z a-z 0-9 _ -`.
 *
 * @throws {InputError} naming the field.
 */
export function checkKekName(kekName: unknown): asserts kekName is string {
  if (typeof kekName !== 'string' || !KEK_NAME.test(kekName)) {
    throw new InputError('"kekName" expected 1 to 128 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
}
