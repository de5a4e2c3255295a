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

/** Length of the nonces {@link randomGcmNonce} returns: 96 bits, the AES-GCM standard size. */
export const GCM_NONCE_LENGTH = 12;

// getRandomValues costs several microseconds a call in Node whatever the size: nonces come from
// a pool refilled 4 KiB at a time, one call per 341 nonces instead of one per nonce.
const NONCE_POOL = 4092;
let nonces: Uint8Array = new Uint8Array(0);
let nonceOffset = 0;

/**
 * A fresh random 96-bit AES-GCM nonce. Nonces are public, so drawing them from a pool reveals
 * nothing; each is handed out once. Never use it for key material: use {@link randomBytes}.
 */
export function randomGcmNonce(): Uint8Array {
  if (nonceOffset + GCM_NONCE_LENGTH > nonces.length) {
    nonces = randomBytes(NONCE_POOL);
    nonceOffset = 0;
  }
  const nonce = nonces.subarray(nonceOffset, nonceOffset + GCM_NONCE_LENGTH);
  nonceOffset += GCM_NONCE_LENGTH;
  return nonce;
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
