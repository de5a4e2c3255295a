/**
 * Refs and encryption contexts of the aws-kms provider.
 */
import { type DekBinding, type KekRef, KekRefError } from '@rekey/crypto-core';

/** The prefix of every aws-kms ref: `aws-kms:<key ARN>`. */
export const REF_PREFIX = 'aws-kms:';

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

/**
 * The key ARN of a ref.
 *
 * @throws {KekRefError} `KEK_REF_UNKNOWN` when the ref does not hold a key ARN.
 */
export function arnOf(ref: unknown): string {
  const arn =
    typeof ref === 'string' && ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : '';
  if (!KEY_ARN.test(arn)) throw new KekRefError('KEK_REF_UNKNOWN', String(ref));
  return arn;
}

/** The ref of a key ARN (or of an alias, in messages about a KEK name). */
export function refOf(keyId: string): KekRef {
  return `${REF_PREFIX}${keyId}`;
}

/**
 * The encryption context of a wrapped DEK. KMS may refuse empty context values, so an empty
 * scope is left out; a scope that is present is never empty, so the mapping stays injective.
 */
export function encryptionContext(binding: DekBinding): Record<string, string> {
  const context: Record<string, string> = {
    'rekey:dek-id': binding.dekId,
    'rekey:kek-name': binding.kekName,
  };
  if (binding.scope !== '') context['rekey:scope'] = binding.scope;
  return context;
}
