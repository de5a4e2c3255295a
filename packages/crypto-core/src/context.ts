/**
 * Canonical encoding of an encryption context (docs/format.md, "Context encoding"). The context
 * is authenticated as GCM additional data, never stored in the envelope.
 */
import { utf8 } from './bytes.ts';
import { InputError } from './errors.ts';

/**
 * What a ciphertext is bound to, for example `{ table: 'users', column: 'email', row: '42' }`.
 * Decryption must present the same pairs; their order does not matter.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

const EMPTY = new Uint8Array(4);

/**
 * The canonical bytes of a context: u32 pair count, then the pairs sorted bytewise by the UTF-8
 * bytes of their keys, each as u32 key length, key bytes, u32 value length, value bytes (all
 * integers big-endian). An absent or empty context is 4 zero bytes.
 *
 * @throws {InputError} when the context is not an object or a value is not a string.
 * @example
 * ```ts
 * encodeContext({ b: '2', a: '1' }); // the same bytes as encodeContext({ a: '1', b: '2' })
 * ```
 */
export function encodeContext(context?: EncryptionContext): Uint8Array {
  const encoded = contextBytes(context);
  return encoded === EMPTY ? EMPTY.slice() : encoded;
}

/**
 * {@link encodeContext} for internal callers that only read the result: an empty context shares
 * one constant instead of allocating per message.
 */
export function contextBytes(context?: EncryptionContext): Uint8Array {
  if (context === undefined) return EMPTY;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new InputError('"context" expected an object of string values');
  }
  const keys = Object.keys(context);
  if (keys.length === 0) return EMPTY;

  const pairs: [Uint8Array, Uint8Array][] = [];
  let length = 4;
  for (const key of keys) {
    const value = context[key];
    if (typeof value !== 'string') {
      throw new InputError(`"context.${key}" expected a string, got ${typeOf(value)}`);
    }
    const pair: [Uint8Array, Uint8Array] = [utf8(key), utf8(value)];
    length += 8 + pair[0].length + pair[1].length;
    pairs.push(pair);
  }
  // Bytewise order of the UTF-8 keys: JavaScript's default string order compares UTF-16 code
  // units, which differs for characters above U+FFFF.
  pairs.sort((a, b) => compareBytes(a[0], b[0]));

  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length);
  let offset = 4;
  for (const [key, value] of pairs) {
    view.setUint32(offset, key.length);
    out.set(key, offset + 4);
    offset += 4 + key.length;
    view.setUint32(offset, value.length);
    out.set(value, offset + 4);
    offset += 4 + value.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
