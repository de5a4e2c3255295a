/**
 * KEK derivation of the platform-secret provider: HKDF-SHA256 (RFC 5869) of the platform's one
 * secret, a fixed salt and an info string that names the KEK name and version label.
 */
import { cryptoBackend, type KekName, utf8 } from '@rekey/crypto-core';

/** HKDF salt: a fixed domain separator (RFC 5869 section 3.1 allows a non-secret constant). */
export const PLATFORM_SECRET_SALT: Uint8Array = utf8('rekey/platform-secret/v1');

/** Length of every derived KEK: AES-256. */
const KEK_LENGTH = 32;

/**
 * HKDF-SHA256 as this provider uses it, served by crypto-core's backend (`node:crypto` on Node,
 * WebCrypto elsewhere). The Wycheproof vectors run through this function.
 *
 * @throws {InputError} when `length` is not 1 to 8160 bytes.
 */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  return cryptoBackend.hkdfSha256(ikm, salt, info, length);
}

/**
 * The 32-byte KEK of one version: `HKDF-SHA256(ikm = secret, salt = "rekey/platform-secret/v1",
 * info = len || "rekey kek" || len || kekName || len || label, L = 32)`, each `len` a u32
 * big-endian byte count, so that no two (KEK name, label) pairs share an info string.
 */
export function deriveKek(
  secret: Uint8Array,
  kekName: KekName,
  label: string,
): Promise<Uint8Array> {
  return hkdfSha256(secret, PLATFORM_SECRET_SALT, derivationInfo(kekName, label), KEK_LENGTH);
}

function derivationInfo(kekName: KekName, label: string): Uint8Array {
  const fields = ['rekey kek', kekName, label].map(utf8);
  const out = new Uint8Array(fields.reduce((n, f) => n + 4 + f.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const f of fields) {
    view.setUint32(offset, f.length);
    out.set(f, offset + 4);
    offset += 4 + f.length;
  }
  return out;
}
