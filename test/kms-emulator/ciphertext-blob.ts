/**
 * The emulator's ciphertext blob and how it binds the encryption context. Real KMS blobs are
 * opaque too; this one only has to name its key and fail on any change.
 *
 * blob = 0x01 || u8 len || key id (ASCII) || iv (12) || AES-256-GCM ciphertext || tag (16)
 * aad  = "kms-emulator/v1" || u32 len || key id || u32 count || for each context pair, sorted by
 *        key: u32 len || key || u32 len || value   (UTF-8, big-endian lengths: unambiguous)
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 0x01;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const LABEL = Buffer.from('kms-emulator/v1');

export type EncryptionContext = Readonly<Record<string, string>>;

export interface ParsedBlob {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly sealed: Buffer;
}

export function sealBlob(
  keyId: string,
  material: Buffer,
  plaintext: Buffer,
  context: EncryptionContext,
): Buffer {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', material, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(contextAad(keyId, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const id = Buffer.from(keyId, 'ascii');
  return Buffer.concat([Buffer.from([VERSION, id.length]), id, iv, body]);
}

/** The parts of a blob, or `undefined` when it is not shaped like one. */
export function parseBlob(blob: Buffer): ParsedBlob | undefined {
  if (blob.length < 2 || blob[0] !== VERSION) return undefined;
  const idLength = blob[1] as number;
  const ivAt = 2 + idLength;
  if (blob.length < ivAt + IV_LENGTH + TAG_LENGTH) return undefined;
  return {
    keyId: blob.subarray(2, ivAt).toString('latin1'),
    iv: blob.subarray(ivAt, ivAt + IV_LENGTH),
    sealed: blob.subarray(ivAt + IV_LENGTH),
  };
}

/** The plaintext, or `undefined` when the tag does not verify. */
export function openBlob(
  parsed: ParsedBlob,
  material: Buffer,
  context: EncryptionContext,
): Buffer | undefined {
  const tagAt = parsed.sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv('aes-256-gcm', material, parsed.iv, {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(contextAad(parsed.keyId, context));
  decipher.setAuthTag(parsed.sealed.subarray(tagAt));
  try {
    return Buffer.concat([decipher.update(parsed.sealed.subarray(0, tagAt)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function contextAad(keyId: string, context: EncryptionContext): Buffer {
  const parts: Buffer[] = [LABEL, field(keyId), u32(Object.keys(context).length)];
  for (const key of Object.keys(context).sort()) {
    parts.push(field(key), field(context[key] as string));
  }
  return Buffer.concat(parts);
}

function field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
