/**
 * Fast conversions between canonical DEK ids and their 16 bytes, for the adapters that store ids
 * as binary (MySQL `BINARY(16)`, SQLite `BLOB`). A rewrite converts every id twice, so these
 * avoid `parseInt` and string slicing per byte. Callers validate ids first (`assertDekId`).
 */

const HEX = '0123456789abcdef';
const BYTE_TO_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_TO_HEX.push(HEX.charAt(i >> 4) + HEX.charAt(i & 15));

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE[HEX.charCodeAt(i)] = i;

/** Offsets of the 32 hex digits inside the 36-character uuid form. */
const DIGITS: number[] = [];
for (let i = 0; i < 36; i++) if (i !== 8 && i !== 13 && i !== 18 && i !== 23) DIGITS.push(i);

/** The 16 bytes of a canonical (already validated) DEK id. */
export function idToBytes(id: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const hi = NIBBLE[id.charCodeAt(DIGITS[2 * i] as number)] as number;
    const lo = NIBBLE[id.charCodeAt(DIGITS[2 * i + 1] as number)] as number;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** The canonical id of 16 bytes read from the database. */
export function bytesToId(b: Uint8Array): string {
  const h = BYTE_TO_HEX;
  return (
    (h[b[0] as number] as string) +
    h[b[1] as number] +
    h[b[2] as number] +
    h[b[3] as number] +
    '-' +
    h[b[4] as number] +
    h[b[5] as number] +
    '-' +
    h[b[6] as number] +
    h[b[7] as number] +
    '-' +
    h[b[8] as number] +
    h[b[9] as number] +
    '-' +
    h[b[10] as number] +
    h[b[11] as number] +
    h[b[12] as number] +
    h[b[13] as number] +
    h[b[14] as number] +
    h[b[15] as number]
  );
}

/** Lowercase hex of bytes, through a lookup table (one string per byte, no `padStart`). */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i] as number];
  return out;
}

/** A plain `Uint8Array` copy of driver output (a Node `Buffer` may share a pooled slab). */
export function ownBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/**
 * The parameters of a keyset scan over binary ids written as one branch per ref, merged by
 * UNION ALL (MySQL/MariaDB and SQLite): per branch kek_name, kek_ref, [after], [until], limit,
 * then the outer limit when there are several refs. `refs` are the query's refs, deduplicated.
 */
export function unionScanParams(
  query: {
    readonly kekName: string;
    readonly after?: string;
    readonly until?: string;
    readonly limit: number;
  },
  refs: readonly string[],
): (string | number | Uint8Array)[] {
  const after = query.after === undefined ? undefined : idToBytes(query.after);
  const until = query.until === undefined ? undefined : idToBytes(query.until);
  const params: (string | number | Uint8Array)[] = [];
  for (const ref of refs) {
    params.push(query.kekName, ref);
    if (after !== undefined) params.push(after);
    if (until !== undefined) params.push(until);
    params.push(query.limit);
  }
  if (refs.length > 1) params.push(query.limit);
  return params;
}
