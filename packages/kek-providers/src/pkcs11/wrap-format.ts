/**
 * The byte format of a DEK wrapped by the PKCS#11 provider, its GCM additional data, and the
 * names the provider gives KEK versions (refs and token labels).
 */
import { type DekBinding, encodeDekBinding, type KekName, type KekRef } from '@rekey/crypto-core';

/** The prefix of every ref the PKCS#11 provider issues. */
export const PKCS11_PROVIDER_ID = 'pkcs11';

/**
 * Format byte of a CKM_AES_GCM wrap:
 * `0x01 || key tag (8) || iv (12) || ciphertext (32) || GCM tag (16)`, 69 bytes.
 */
export const FORMAT_AES_GCM = 0x01;

/** GCM IV length in bytes (SP 800-38D section 8.2.2: random 96-bit IVs). */
export const IV_LENGTH = 12;

/** GCM tag length in bytes: the full 128 bits. */
export const TAG_LENGTH = 16;

/** Length of every DEK: an AES-256 key. */
export const DEK_LENGTH = 32;

/** Length of the key tag: the random half of the key object's `CKA_ID` (see token-keys.ts). */
export const KEY_TAG_LENGTH = 8;

/** Length of a wrapped DEK in format {@link FORMAT_AES_GCM}: 69 bytes. */
export const WRAPPED_LENGTH: number = 1 + KEY_TAG_LENGTH + IV_LENGTH + DEK_LENGTH + TAG_LENGTH;

const AAD_LABEL = 'rekey/pkcs11-wrap/v1';

/** A parsed `pkcs11:<kekName>/v<n>` ref. */
export interface VersionName {
  readonly kekName: KekName;
  readonly version: number;
}

/** KEK names this provider accepts: they become part of token object labels. */
const KEK_NAME = /^[A-Za-z0-9_-]{1,128}$/;

const REF = /^pkcs11:([A-Za-z0-9_-]{1,128})\/v([1-9][0-9]{0,8})$/;

/** True when `kekName` is 1 to 128 characters of `A-Z a-z 0-9 _ -`. */
export function isKekName(kekName: unknown): kekName is KekName {
  return typeof kekName === 'string' && KEK_NAME.test(kekName);
}

/** The ref of a version: `pkcs11:<kekName>/v<n>`. */
export function versionRef(kekName: KekName, version: number): KekRef {
  return `${PKCS11_PROVIDER_ID}:${kekName}/v${version}`;
}

/** The KEK name and version of a ref, or `undefined` when it is not a well-formed pkcs11 ref. */
export function parseRef(ref: unknown): VersionName | undefined {
  if (typeof ref !== 'string') return undefined;
  const match = REF.exec(ref);
  if (match === null) return undefined;
  return { kekName: match[1] as string, version: Number(match[2]) };
}

/**
 * The `CKA_LABEL` of a version's key object: `rekey:<kekName>:v<n>`. Exact labels let a lookup
 * by ref be one `C_FindObjects` call; the KEK name alphabet has no `:`, so labels never collide.
 */
export function versionLabel(kekName: KekName, version: number): string {
  return `rekey:${kekName}:v${version}`;
}

/**
 * Canonical GCM additional data: a format label, then DEK id, scope, KEK name and ref, each as a
 * u32 big-endian byte count followed by its UTF-8 bytes. The length prefixes make the encoding
 * injective, so a wrapped DEK moved to another record or relabelled with another ref fails.
 */
export function wrapAad(binding: DekBinding, ref: KekRef): Uint8Array {
  return encodeDekBinding(AAD_LABEL, binding, ref);
}

/** The parts of a wrapped DEK. */
export interface WrappedParts {
  /** Which key object of the version wrapped it. */
  readonly keyTag: Uint8Array;
  readonly iv: Uint8Array;
  /** Ciphertext followed by the GCM tag. */
  readonly sealed: Uint8Array;
}

/** Joins the parts of a wrapped DEK behind the format byte. */
export function encodeWrapped(parts: WrappedParts): Uint8Array {
  const out = new Uint8Array(1 + parts.keyTag.length + parts.iv.length + parts.sealed.length);
  out[0] = FORMAT_AES_GCM;
  out.set(parts.keyTag, 1);
  out.set(parts.iv, 1 + parts.keyTag.length);
  out.set(parts.sealed, 1 + parts.keyTag.length + parts.iv.length);
  return out;
}

/**
 * Splits a wrapped DEK, or returns `undefined` when its length or format byte is wrong (the
 * caller answers with the one `DecryptionError`).
 */
export function decodeWrapped(bytes: unknown): WrappedParts | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== WRAPPED_LENGTH) return undefined;
  if (bytes[0] !== FORMAT_AES_GCM) return undefined;
  const ivStart = 1 + KEY_TAG_LENGTH;
  return {
    keyTag: bytes.subarray(1, ivStart),
    iv: bytes.subarray(ivStart, ivStart + IV_LENGTH),
    sealed: bytes.subarray(ivStart + IV_LENGTH),
  };
}
