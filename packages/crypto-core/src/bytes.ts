/** Byte helpers that work on every runtime (no `Buffer`). */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  // Short ASCII strings (context keys and values, ids, labels) are the common case, and
  // TextEncoder's per-call cost dwarfs copying a few bytes by hand.
  if (text.length <= 64) {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return encoder.encode(text);
      out[i] = c;
    }
    return out;
  }
  return encoder.encode(text);
}

/**
 * The string of UTF-8 bytes.
 *
 * @throws {TypeError} when the bytes are not valid UTF-8.
 */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Joins byte arrays into one new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Base64url without padding (RFC 4648 section 5). */
export function toBase64Url(bytes: Uint8Array): string {
  // btoa is native on every runtime rekey supports; building its binary string in chunks keeps
  // String.fromCharCode within argument-count limits.
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes base64url without padding. Returns `undefined` for any character outside the
 * alphabet, a length of 1 mod 4, or non-zero trailing bits, so every string has one decoding.
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1 || !BASE64URL.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // atob ignores non-zero bits after the last full byte; a canonical encoding has none.
  const rest = text.length % 4;
  if (rest !== 0) {
    const last = BASE64URL_VALUES.indexOf(text.charAt(text.length - 1));
    const unused = rest === 2 ? 0b1111 : 0b11;
    if ((last & unused) !== 0) return undefined;
  }
  return out;
}

const BASE64URL_VALUES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
