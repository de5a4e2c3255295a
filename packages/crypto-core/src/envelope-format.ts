/**
 * The binary and text forms of a rekey envelope, version 1 (docs/format.md). Parsing here checks
 * structure only; authenticity is checked by decryption.
 */
import { fromBase64Url, toBase64Url } from './bytes.ts';
import { dekIdFromBytes } from './dek-id.ts';
import { FormatError } from './errors.ts';

/** First magic byte, "R". */
export const MAGIC_0 = 0x52;
/** Second magic byte, "K". */
export const MAGIC_1 = 0x4b;
/** The format version this code writes (and the only one it reads so far). */
export const FORMAT_VERSION = 0x01;
/** Suite 1: AES-256-GCM, HMAC-SHA-512 subkey derivation, key commitment. */
export const SUITE_AES256GCM_HMACSHA512 = 0x01;

/** Offset of the 16 DEK id bytes. */
export const DEK_ID_OFFSET = 4;
/** Offset of the key nonce KN. */
export const KEY_NONCE_OFFSET = 20;
/** Offset of the GCM nonce N. */
export const NONCE_OFFSET = 32;
/** Offset of the commitment C. */
export const COMMITMENT_OFFSET = 44;
/** Header length: every byte before the ciphertext, all of it authenticated. */
export const HEADER_LENGTH = 76;
/** Length of the key nonce KN. */
export const KEY_NONCE_LENGTH = 12;
/** Length of the GCM nonce N. */
export const NONCE_LENGTH = 12;
/** Length of the commitment C. */
export const COMMITMENT_LENGTH = 32;
/** Length of the GCM tag that ends every envelope. */
export const TAG_LENGTH = 16;
/** The shortest envelope: a header and the tag of an empty plaintext. */
export const MIN_ENVELOPE_LENGTH: number = HEADER_LENGTH + TAG_LENGTH;

const TEXT_PREFIX = 'rk:';

/** The public header fields of an envelope. Nothing here is secret. */
export interface EnvelopeHeader {
  readonly version: number;
  readonly suite: number;
  /** The id of the DEK that encrypted the envelope. */
  readonly dekId: string;
  /** Selects the subkey derived from the DEK (12 bytes). */
  readonly keyNonce: Uint8Array;
  /** The AES-GCM nonce (12 bytes). */
  readonly nonce: Uint8Array;
  /** Commits the envelope to its DEK (32 bytes). */
  readonly commitment: Uint8Array;
  /** Length of the ciphertext without the 16-byte tag, which equals the plaintext length. */
  readonly ciphertextLength: number;
}

/**
 * Checks the fixed header fields of an envelope without copying anything.
 *
 * @throws {FormatError} when the bytes are too short or carry a bad magic, an unknown version or
 * an unknown suite.
 */
export function checkEnvelope(envelope: Uint8Array): void {
  if (!(envelope instanceof Uint8Array)) {
    throw new FormatError('"envelope" expected a Uint8Array');
  }
  if (envelope.length < MIN_ENVELOPE_LENGTH) {
    throw new FormatError(
      `"envelope" expected at least ${MIN_ENVELOPE_LENGTH} bytes, got ${envelope.length}`,
    );
  }
  if (envelope[0] !== MAGIC_0 || envelope[1] !== MAGIC_1) {
    throw new FormatError('"envelope" has a bad magic: expected 0x524b ("RK")');
  }
  if (envelope[2] !== FORMAT_VERSION) {
    throw new FormatError(`"envelope" has unknown format version ${envelope[2]}`);
  }
  if (envelope[3] !== SUITE_AES256GCM_HMACSHA512) {
    throw new FormatError(`"envelope" has unknown suite ${envelope[3]}`);
  }
}

/**
 * The header fields of an envelope, for tooling (which DEK, which version). Reveals nothing
 * secret and proves nothing: only decryption authenticates.
 *
 * @throws {FormatError} when the bytes are not a well-formed envelope.
 * @example
 * ```ts
 * const { dekId } = parseEnvelope(ciphertext);
 * ```
 */
export function parseEnvelope(envelope: Uint8Array): EnvelopeHeader {
  checkEnvelope(envelope);
  return {
    version: envelope[2] as number,
    suite: envelope[3] as number,
    dekId: envelopeDekId(envelope),
    keyNonce: envelope.slice(KEY_NONCE_OFFSET, KEY_NONCE_OFFSET + KEY_NONCE_LENGTH),
    nonce: envelope.slice(NONCE_OFFSET, NONCE_OFFSET + NONCE_LENGTH),
    commitment: envelope.slice(COMMITMENT_OFFSET, COMMITMENT_OFFSET + COMMITMENT_LENGTH),
    ciphertextLength: envelope.length - MIN_ENVELOPE_LENGTH,
  };
}

/**
 * The DEK id of an envelope that passed {@link checkEnvelope}.
 */
export function envelopeDekId(envelope: Uint8Array): string {
  return dekIdFromBytes(envelope.subarray(DEK_ID_OFFSET, KEY_NONCE_OFFSET));
}

/**
 * The text form of an envelope: `"rk:"` followed by base64url without padding, for string
 * columns.
 *
 * @throws {FormatError} when the bytes are not a well-formed envelope.
 */
export function toText(envelope: Uint8Array): string {
  checkEnvelope(envelope);
  return TEXT_PREFIX + toBase64Url(envelope);
}

/**
 * The binary form of a text envelope.
 *
 * @throws {FormatError} without the `rk:` prefix, with bad base64url, or when the bytes are not a
 * well-formed envelope.
 */
export function fromText(text: string): Uint8Array {
  if (typeof text !== 'string' || !text.startsWith(TEXT_PREFIX)) {
    throw new FormatError('"envelope" text expected the "rk:" prefix');
  }
  const envelope = fromBase64Url(text.slice(TEXT_PREFIX.length));
  if (envelope === undefined) {
    throw new FormatError('"envelope" text is not canonical base64url without padding');
  }
  checkEnvelope(envelope);
  return envelope;
}
