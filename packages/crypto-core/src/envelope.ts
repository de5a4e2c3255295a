/**
 * Encryption and decryption of envelopes with a {@link DataKey} (docs/format.md, "Encryption"
 * and "Decryption").
 */
import { utf8 } from './bytes.ts';
import { contextBytes, type EncryptionContext } from './context.ts';
import type { DataKey, Subkey } from './data-key.ts';
import {
  COMMITMENT_OFFSET,
  checkEnvelope,
  DEK_ID_OFFSET,
  FORMAT_VERSION,
  HEADER_LENGTH,
  KEY_NONCE_LENGTH,
  KEY_NONCE_OFFSET,
  MAGIC_0,
  MAGIC_1,
  NONCE_LENGTH,
  NONCE_OFFSET,
  SUITE_AES256GCM_HMACSHA512,
} from './envelope-format.ts';
import { DecryptionError, InputError } from './errors.ts';
import { constantTimeEqual, randomGcmNonce } from './primitives.ts';

/** Options of {@link encrypt} and {@link decrypt}. */
export interface EnvelopeOptions {
  /** What the ciphertext is bound to; decryption must present the same pairs. */
  readonly context?: EncryptionContext;
}

/** Fixed nonces for known-answer tests only: never reuse a nonce with real data. */
export interface FixedNonces {
  readonly keyNonce: Uint8Array;
  readonly nonce: Uint8Array;
}

/**
 * Encrypts a plaintext (bytes, or a string as UTF-8) into a binary envelope bound to `context`.
 *
 * @throws {InputError} when the plaintext or the context is malformed, or the key was destroyed.
 * @example
 * ```ts
 * const envelope = await encrypt(dataKey, 'alice@example.com', { context: { column: 'email' } });
 * ```
 */
export async function encrypt(
  dataKey: DataKey,
  plaintext: Uint8Array | string,
  options?: EnvelopeOptions,
): Promise<Uint8Array> {
  const bytes = plaintextBytes(plaintext);
  const context = contextBytes(options?.context);

  const leased = dataKey.leaseForEncryption();
  const subkey = leased instanceof Promise ? await leased : leased;
  try {
    return await seal(dataKey, subkey, randomGcmNonce(), bytes, context);
  } finally {
    dataKey.release(subkey);
  }
}

/**
 * Encrypts with the given nonces, so known-answer vectors are reproducible. Internal: not
 * exported from the package, and never to be used with real data.
 */
export async function encryptWithFixedNonces(
  dataKey: DataKey,
  plaintext: Uint8Array | string,
  nonces: FixedNonces,
  options?: EnvelopeOptions,
): Promise<Uint8Array> {
  if (nonces.keyNonce.length !== KEY_NONCE_LENGTH || nonces.nonce.length !== NONCE_LENGTH) {
    throw new InputError('"nonces" expected a 12-byte key nonce and a 12-byte nonce');
  }
  const bytes = plaintextBytes(plaintext);
  const context = contextBytes(options?.context);

  const subkey = await dataKey.leaseFor(nonces.keyNonce);
  try {
    return await seal(dataKey, subkey, nonces.nonce, bytes, context);
  } finally {
    dataKey.release(subkey);
  }
}

/**
 * Decrypts a binary envelope made with this data key, checking the key commitment before any
 * decryption and the context as additional data.
 *
 * @throws {FormatError} when the bytes are not a well-formed envelope.
 * @throws {DecryptionError} for any other DEK, another context, or tampered bytes (one message
 * for every cause).
 */
export async function decrypt(
  dataKey: DataKey,
  envelope: Uint8Array,
  options?: EnvelopeOptions,
): Promise<Uint8Array> {
  checkEnvelope(envelope);
  if (!constantTimeEqual(envelope.subarray(DEK_ID_OFFSET, KEY_NONCE_OFFSET), dataKey.idBytes)) {
    throw new DecryptionError();
  }
  const context = contextBytes(options?.context);

  const leased = dataKey.leaseFor(envelope.subarray(KEY_NONCE_OFFSET, NONCE_OFFSET));
  const subkey = leased instanceof Promise ? await leased : leased;
  try {
    // Commitment first (docs/format.md): a ciphertext never reaches AES-GCM under a key it does
    // not commit to.
    const commitment = envelope.subarray(COMMITMENT_OFFSET, HEADER_LENGTH);
    if (!constantTimeEqual(commitment, subkey.commitment)) throw new DecryptionError();

    const aad = new Uint8Array(HEADER_LENGTH + context.length);
    aad.set(envelope.subarray(0, HEADER_LENGTH), 0);
    aad.set(context, HEADER_LENGTH);
    const nonce = envelope.subarray(NONCE_OFFSET, COMMITMENT_OFFSET);
    return await dataKey.backend.aesGcmOpen(
      subkey.key,
      nonce,
      envelope.subarray(HEADER_LENGTH),
      aad,
    );
  } finally {
    dataKey.release(subkey);
  }
}

/** Writes the header and the encoded context as AAD, then seals behind the header. */
function seal(
  dataKey: DataKey,
  subkey: Subkey,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
): Promise<Uint8Array> {
  // One buffer holds H || encodeContext(context), the AAD; its first 76 bytes are the header.
  const aad = new Uint8Array(HEADER_LENGTH + context.length);
  aad[0] = MAGIC_0;
  aad[1] = MAGIC_1;
  aad[2] = FORMAT_VERSION;
  aad[3] = SUITE_AES256GCM_HMACSHA512;
  aad.set(dataKey.idBytes, DEK_ID_OFFSET);
  aad.set(subkey.keyNonce, KEY_NONCE_OFFSET);
  aad.set(nonce, NONCE_OFFSET);
  aad.set(subkey.commitment, COMMITMENT_OFFSET);
  aad.set(context, HEADER_LENGTH);

  const header = aad.subarray(0, HEADER_LENGTH);
  return dataKey.backend.aesGcmSeal(
    subkey.key,
    header.subarray(NONCE_OFFSET, COMMITMENT_OFFSET),
    plaintext,
    aad,
    header,
  );
}

function plaintextBytes(plaintext: Uint8Array | string): Uint8Array {
  if (typeof plaintext === 'string') return utf8(plaintext);
  if (plaintext instanceof Uint8Array) return plaintext;
  throw new InputError('"plaintext" expected a Uint8Array or a string');
}
