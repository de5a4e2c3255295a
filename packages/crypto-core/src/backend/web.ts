/**
 * The WebCrypto backend: `crypto.subtle` only, so it runs on Deno, Bun, browsers and Node.
 */
import { DecryptionError, InputError } from '../errors.ts';
import {
  checkAesKeyLength,
  checkHkdfLength,
  checkIv,
  checkSealed,
  GCM_TAG_LENGTH,
} from './checks.ts';
import type { AesGcmKey, CryptoBackend } from './types.ts';

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) {
    throw new InputError('WebCrypto is missing: globalThis.crypto.subtle is not defined');
  }
  return s;
}

class WebAesGcmKey implements AesGcmKey {
  #key: CryptoKey | undefined;
  readonly length: number;

  constructor(key: CryptoKey, length: number) {
    this.#key = key;
    this.length = length;
  }

  get key(): CryptoKey {
    if (this.#key === undefined) throw new InputError('"key" was destroyed');
    return this.#key;
  }

  destroy(): void {
    this.#key = undefined;
  }
}

function webKey(key: AesGcmKey): WebAesGcmKey {
  if (!(key instanceof WebAesGcmKey)) throw new InputError('"key" was imported by another backend');
  return key;
}

// WebCrypto's TypeScript signatures want ArrayBuffer-backed views; ours always are.
type Bytes = Uint8Array<ArrayBuffer>;
const bytes = (u: Uint8Array): Bytes => u as Bytes;

export const backend: CryptoBackend = {
  name: 'webcrypto',

  async importAesGcmKey(raw) {
    checkAesKeyLength(raw);
    // importKey keeps its own copy; ours is zeroed once the import is done.
    const copy = raw.slice();
    try {
      const key = await subtle().importKey('raw', bytes(copy), 'AES-GCM', false, [
        'encrypt',
        'decrypt',
      ]);
      return new WebAesGcmKey(key, raw.length);
    } finally {
      copy.fill(0);
    }
  },

  async aesGcmSeal(key, iv, plaintext, aad, prefix) {
    const k = webKey(key).key;
    checkIv(iv);

    const params = { name: 'AES-GCM', iv: bytes(iv), additionalData: bytes(aad), tagLength: 128 };
    const sealed = new Uint8Array(await subtle().encrypt(params, k, bytes(plaintext)));
    if (prefix === undefined || prefix.length === 0) return sealed;
    // WebCrypto cannot write into a caller's buffer: one copy to put the prefix in front.
    const out = new Uint8Array(prefix.length + sealed.length);
    out.set(prefix, 0);
    out.set(sealed, prefix.length);
    return out;
  },

  async aesGcmOpen(key, iv, sealed, aad) {
    const k = webKey(key).key;
    checkIv(iv);
    checkSealed(sealed);

    const params = {
      name: 'AES-GCM',
      iv: bytes(iv),
      additionalData: bytes(aad),
      tagLength: GCM_TAG_LENGTH * 8,
    };
    try {
      return new Uint8Array(await subtle().decrypt(params, k, bytes(sealed)));
    } catch (cause) {
      throw new DecryptionError({ cause });
    }
  },

  async hmac(hash, key, data) {
    const k = await subtle().importKey('raw', bytes(key), { name: 'HMAC', hash }, false, ['sign']);
    return new Uint8Array(await subtle().sign('HMAC', k, bytes(data)));
  },

  async hkdfSha256(ikm, salt, info, length) {
    checkHkdfLength(length);
    const k = await subtle().importKey('raw', bytes(ikm), 'HKDF', false, ['deriveBits']);
    const params = { name: 'HKDF', hash: 'SHA-256', salt: bytes(salt), info: bytes(info) };
    return new Uint8Array(await subtle().deriveBits(params, k, length * 8));
  },
};
