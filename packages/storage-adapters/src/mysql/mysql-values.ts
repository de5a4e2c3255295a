/**
 * Statement values of the MySQL store, written so that the server reads them the same under
 * every `sql_mode`.
 *
 * mysql2's `query()` interpolates values client-side and quotes a JavaScript string with
 * backslash escapes (`it\'s`). A session running with `NO_BACKSLASH_ESCAPES` reads that
 * backslash as a plain character and the quote after it as the end of the literal: the rest of
 * the value becomes SQL. So the store never hands mysql2 a string. Text goes out as the hex of
 * its UTF-8 bytes behind a charset introducer, `_utf8mb4 X'6c6f63616c3a7631'`:
 *
 * - hex digits read the same in every `sql_mode` (with or without `NO_BACKSLASH_ESCAPES` or
 *   `ANSI_QUOTES`) and whatever the connection's character set;
 * - the introducer keeps the value a utf8mb4 character string, coercible like any literal, so a
 *   comparison takes the column's collation (byte for byte on the store's VARBINARY columns, see
 *   mysql-schema.ts) and still uses the column's index;
 * - bytes (`Uint8Array`) already go out as `X'..'` and numbers as digits.
 */
import { bytesToHex } from '../id-bytes.ts';

/** A value mysql2 writes into the statement as it is (it calls `toSqlString()`). */
export interface SqlLiteral {
  toSqlString(): string;
}

const encoder = new TextEncoder();

class Utf8Literal implements SqlLiteral {
  readonly #sql: string;

  constructor(text: string) {
    this.#sql = `_utf8mb4 X'${bytesToHex(encoder.encode(text))}'`;
  }

  toSqlString(): string {
    return this.#sql;
  }
}

/** `text` as a `_utf8mb4 X'..'` literal, which no `sql_mode` reads differently. */
export function utf8Literal(text: string): SqlLiteral {
  return new Utf8Literal(text);
}

/**
 * `values` with every string, at any depth of nested arrays (`VALUES ?` rows, `IN (?)` lists),
 * replaced by its {@link utf8Literal}. Bytes, numbers, `null` and literals are kept: mysql2
 * writes them the same in every mode. A string that recurs (the new ref of every row of a swap
 * batch) is encoded once.
 *
 * @throws {Error} for any other value (an object, a `Set`, a `Date`), which mysql2 would expand
 * with its own string quoting: a defect of the store, never of its input.
 */
export function bindable(values: readonly unknown[]): unknown[] {
  const literals = new Map<string, SqlLiteral>();
  const bind = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(bind);
    if (typeof value === 'string') {
      let literal = literals.get(value);
      if (literal === undefined) {
        literal = utf8Literal(value);
        literals.set(value, literal);
      }
      return literal;
    }
    if (isKept(value)) return value;
    throw new Error(`mysql store: no safe literal for a statement value of type ${typeof value}`);
  };
  return values.map(bind);
}

function isKept(value: unknown): boolean {
  if (value === null || typeof value === 'number' || typeof value === 'bigint') return true;
  return (
    value instanceof Uint8Array || typeof (value as SqlLiteral | null)?.toSqlString === 'function'
  );
}

/**
 * At least as many characters as `value` takes in the statement text once bound: a string's
 * literal has at most 3 UTF-8 bytes (6 hex digits) per UTF-16 code unit.
 */
export function boundLength(value: unknown): number {
  if (typeof value === 'string') return 6 * value.length + 12;
  if (value instanceof Uint8Array) return 2 * value.length + 3;
  if (typeof (value as SqlLiteral | null)?.toSqlString === 'function') {
    return (value as SqlLiteral).toSqlString().length;
  }
  return String(value).length;
}
