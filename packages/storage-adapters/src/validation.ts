/**
 * Input checks shared by the SQL adapters, so every store refuses the same values with the same
 * `InputError` before it touches the database (and so a bad row in a batch writes nothing).
 * The limits match `MemoryDekStore` in `@rekey/crypto-core/testing`.
 */
import {
  assertDekId,
  type DekScan,
  type DekSwap,
  InputError,
  type NewDekRecord,
} from '@rekey/crypto-core';

/** Largest wrapped DEK a store accepts, in bytes (KMS ciphertext blobs stay well below it). */
export const MAX_WRAPPED_BYTES = 4096;
/** Longest KEK ref, in UTF-16 code units. */
export const MAX_KEK_REF_LENGTH = 512;
/** Longest KEK name, in UTF-16 code units. */
export const MAX_KEK_NAME_LENGTH = 128;
/** Longest scope, in UTF-16 code units. */
export const MAX_SCOPE_LENGTH = 255;
/** Largest scan page, get-many list or compare-and-swap batch. */
export const MAX_BATCH = 10_000;

const KEK_REF = /^[a-z0-9-]+:.+$/;
// A NUL or a lone surrogate cannot round-trip through PostgreSQL text or UTF-8 columns.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * Throws unless `name` is a table name the adapters accept: lowercase letters, digits and `_`,
 * at most 48 characters (the schema-version table appends `_schema`).
 *
 * @throws {InputError} naming the field.
 */
export function assertTableName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new InputError('"table" expected 1 to 48 of [a-z0-9_], not starting with a digit');
  }
}

/** @throws {InputError} unless `value` is a storable string of at most `max` code units. */
export function assertText(value: unknown, field: string, max: number, nonEmpty: boolean): void {
  if (
    typeof value !== 'string' ||
    (nonEmpty && value.length === 0) ||
    value.length > max ||
    UNSTORABLE.test(value)
  ) {
    const what = nonEmpty ? 'a non-empty string' : 'a string';
    throw new InputError(`"${field}" expected ${what} of at most ${max} characters`);
  }
}

/** @throws {InputError} unless `value` is `<provider>:<detail>` of at most 512 characters. */
export function assertKekRef(value: unknown, field = 'kekRef'): asserts value is string {
  if (
    typeof value !== 'string' ||
    value.length > MAX_KEK_REF_LENGTH ||
    !KEK_REF.test(value) ||
    UNSTORABLE.test(value)
  ) {
    throw new InputError(
      `"${field}" expected "<provider>:<detail>" of at most ${MAX_KEK_REF_LENGTH} chars`,
    );
  }
}

/** @throws {InputError} unless `value` is 1 to 4096 bytes. */
export function assertWrapped(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > MAX_WRAPPED_BYTES) {
    throw new InputError(`"wrapped" expected 1 to ${MAX_WRAPPED_BYTES} bytes`);
  }
}

/** @throws {InputError} for any malformed field of a new DEK. */
export function assertNewDek(record: NewDekRecord): void {
  if (typeof record !== 'object' || record === null) throw new InputError('"record" expected');
  assertDekId(record.id);
  assertText(record.scope, 'scope', MAX_SCOPE_LENGTH, false);
  assertText(record.kekName, 'kekName', MAX_KEK_NAME_LENGTH, true);
  assertKekRef(record.kekRef);
  assertWrapped(record.wrapped);
}

/** @throws {InputError} unless `ids` is an array of at most 10,000 DEK ids. */
export function assertIds(ids: readonly string[]): void {
  if (!Array.isArray(ids) || ids.length > MAX_BATCH) {
    throw new InputError(`"ids" expected an array of at most ${MAX_BATCH} ids`);
  }
  for (const id of ids) assertDekId(id);
}

/** @throws {InputError} for a malformed scan: bad name, refs, bounds or limit. */
export function assertScan(query: DekScan): void {
  if (typeof query !== 'object' || query === null) throw new InputError('"query" expected');
  assertText(query.kekName, 'kekName', MAX_KEK_NAME_LENGTH, true);
  if (!Array.isArray(query.kekRefs) || query.kekRefs.length > 1000) {
    throw new InputError('"kekRefs" expected an array of at most 1000 refs');
  }
  for (const ref of query.kekRefs) assertKekRef(ref, 'kekRefs');
  if (query.after !== undefined) assertDekId(query.after, 'after');
  if (query.until !== undefined) assertDekId(query.until, 'until');
  const { limit } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BATCH) {
    throw new InputError(`"limit" expected an integer from 1 to ${MAX_BATCH}, got ${limit}`);
  }
}

/**
 * Checks a whole compare-and-swap batch before anything is written.
 *
 * @throws {InputError} for a malformed entry, an id given twice, or more than 10,000 entries.
 */
export function assertSwaps(swaps: readonly DekSwap[]): void {
  if (!Array.isArray(swaps) || swaps.length > MAX_BATCH) {
    throw new InputError(`"swaps" expected an array of at most ${MAX_BATCH} entries`);
  }
  const seen = new Set<string>();
  for (const swap of swaps) {
    if (typeof swap !== 'object' || swap === null) throw new InputError('"swap" expected');
    assertDekId(swap.id);
    if (seen.has(swap.id)) throw new InputError(`"id" given twice in one batch: ${swap.id}`);
    seen.add(swap.id);
    const rev = swap.expectedRevision;
    if (!Number.isSafeInteger(rev) || rev < 1 || rev > 2_147_483_646) {
      throw new InputError('"expectedRevision" expected a positive integer');
    }
    assertKekRef(swap.expectedKekRef, 'expectedKekRef');
    assertKekRef(swap.kekRef);
    assertWrapped(swap.wrapped);
  }
}

/** @throws {InputError} unless `kekName` is absent or a valid KEK name. */
export function assertOptionalKekName(kekName: unknown): void {
  if (kekName !== undefined) assertText(kekName, 'kekName', MAX_KEK_NAME_LENGTH, true);
}
