/**
 * Cryptographic primitives for plugins (providers that wrap in process, for example), served by
 * the runtime's backend: `node:crypto` on Node, WebCrypto elsewhere.
 */
import { backend } from '#backend';

import type { AesGcmKey, CryptoBackend } from './backend/types.ts';

export type { AesGcmKey, CryptoBackend };

/** The backend this runtime uses: `node` or `webcrypto`. */
export const cryptoBackend: CryptoBackend = backend;

/** Cryptographically secure random bytes. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes a call.
  for (let offset = 0; offset < length; offset += 65_536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65_536)));
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends on their length only, never on where they
 * differ.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
