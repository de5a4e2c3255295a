/**
 * DEK ids: 16 random bytes, written in canonical lowercase UUID form (8-4-4-4-12 hex digits).
 * Lowercase hex keeps string order equal to byte order, which keyset pagination relies on.
 */
import { toHex } from './bytes.ts';
import { InputError } from './errors.ts';
import { randomBytes } from './primitives.ts';

const DEK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `id` is a canonical DEK id. */
export function isDekId(id: unknown): id is string {
  return typeof id === 'string' && DEK_ID.test(id);
}

/**
 * Throws unless `id` is a canonical DEK id.
 *
 * @throws {InputError} naming the field.
 */
export function assertDekId(id: unknown, field = 'id'): asserts id is string {
  if (!isDekId(id)) {
    throw new InputError(`"${field}" expected a lowercase uuid (8-4-4-4-12 hex digits)`);
  }
}

/** A new random DEK id. */
export function newDekId(): string {
  return dekIdFromBytes(randomBytes(16));
}

/** The canonical form of 16 id bytes. */
export function dekIdFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new InputError(`"id" expected 16 bytes, got ${bytes.length}`);
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The 16 bytes of a canonical DEK id. */
export function dekIdToBytes(id: string): Uint8Array {
  assertDekId(id);
  const hex = id.replaceAll('-', '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
