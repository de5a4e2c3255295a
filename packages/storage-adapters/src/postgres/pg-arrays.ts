/**
 * PostgreSQL array literals (`{...}`) built by hand and sent as plain text parameters that the
 * SQL casts (`$1::bytea[]`). postgres.js can type arrays itself only after it has fetched the
 * server's array types on a connection, which a first query on a fresh pool races (it then sends
 * `bytea` instead of `bytea[]` and the cast fails); text literals work on every connection, with
 * or without `fetch_types`, and cost the same (postgres.js sends every parameter as text).
 *
 * Array literal syntax: https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO
 */
import { bytesToHex } from '../id-bytes.ts';

/** `{"a","b"}` with `"` and `\` escaped: any text, including commas and braces. */
export function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += `"${(values[i] as string).replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

/** `{a,b}` for values that need no quoting: validated uuids and integers. */
export function plainArray(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}

/** `{"\\x0a0b",...}`: bytea elements in hex format, the backslash escaped for the array parser. */
export function byteaArray(values: readonly Uint8Array[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += `"\\\\x${bytesToHex(values[i] as Uint8Array)}"`;
  }
  return `${out}}`;
}
