/**
 * The primitives crypto-core needs from a runtime. Two implementations pass the same tests:
 * `node.ts` (synchronous `node:crypto`, much cheaper per call) and `web.ts` (WebCrypto only, for
 * Deno, browsers and any runtime with `crypto.subtle`). The package's `#backend` import picks one
 * by runtime condition.
 */

/** An imported AES-GCM key (128, 192 or 256 bits), ready for many calls. */
export interface AesGcmKey {
  /** Key length in bytes. */
  readonly length: number;
  /** Drops the imported key; later calls with it throw. */
  destroy(): void;
}

export interface CryptoBackend {
  readonly name: 'node' | 'webcrypto';

  /** Imports raw AES key bytes (16, 24 or 32). The bytes are copied; the caller may zero its own. */
  importAesGcmKey(raw: Uint8Array): Promise<AesGcmKey>;

  /**
   * AES-GCM encryption with a 12-byte IV; returns ciphertext followed by the 16-byte tag, after
   * a copy of `prefix` when one is given (so a header and the ciphertext share one allocation).
   */
  aesGcmSeal(
    key: AesGcmKey,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    prefix?: Uint8Array,
  ): Promise<Uint8Array>;

  /**
   * AES-GCM decryption of ciphertext followed by a 16-byte tag.
   *
   * @throws {DecryptionError} when the tag does not verify.
   */
  aesGcmOpen(
    key: AesGcmKey,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array>;

  /** HMAC-SHA-256 or HMAC-SHA-512 of `data` under a raw key. */
  hmac(hash: 'SHA-256' | 'SHA-512', key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;

  /** HKDF-SHA-256 (RFC 5869) with output length 1 to 8160 bytes. */
  hkdfSha256(
    ikm: Uint8Array,
    salt: Uint8Array,
    info: Uint8Array,
    length: number,
  ): Promise<Uint8Array>;
}
