/**
 * The raw baseline the envelope benchmarks compare with: AES-256-GCM through `node:crypto`, one
 * `createCipheriv` per message with a fresh random IV, output `iv || ciphertext || tag`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface RawAesGcm {
  seal(plaintext: Uint8Array): Uint8Array;
  open(sealed: Uint8Array): Uint8Array;
}

/** Raw node:crypto AES-256-GCM under one 32-byte key. */
export function rawAesGcm(key: Uint8Array): RawAesGcm {
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = cipher.update(plaintext);
      cipher.final();
      const out = new Uint8Array(12 + ct.length + 16);
      out.set(iv, 0);
      out.set(ct, 12);
      out.set(cipher.getAuthTag(), 12 + ct.length);
      return out;
    },
    open(sealed) {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const pt = decipher.update(sealed.subarray(12, sealed.length - 16));
      decipher.final();
      return pt;
    },
  };
}
