import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';

import { UTC_NOW } from './mysql-sql.ts';
import { bindable, boundLength, utf8Literal } from './mysql-values.ts';

describe('mysql statement values', () => {
  it('writes text as the hex of its UTF-8 bytes behind a utf8mb4 introducer', () => {
    expect(utf8Literal("a\\'b").toSqlString()).toBe("_utf8mb4 X'615c2762'");
    expect(utf8Literal('é🔑').toSqlString()).toBe("_utf8mb4 X'c3a9f09f9491'");
    expect(utf8Literal('').toSqlString()).toBe("_utf8mb4 X''");
  });

  it('binds the strings of VALUES rows and placeholders as hex, keeping other values', () => {
    const sql = 'INSERT INTO t (a, b, c, d) VALUES ? ON DUPLICATE KEY UPDATE d = ?';
    const rows = [
      ["x\\' OR 1=1 -- ", new Uint8Array([0x27, 0x5c]), 7, UTC_NOW],
      ['"%_`', new Uint8Array([1]), 8, null],
    ];

    const text = mysql.format(sql, bindable([rows, "\\'"]) as never[]);

    expect(text).toBe(
      "INSERT INTO t (a, b, c, d) VALUES (_utf8mb4 X'785c27204f5220313d31202d2d20', X'275c', 7, " +
        "UTC_TIMESTAMP(6)), (_utf8mb4 X'22255f60', X'01', 8, NULL) " +
        "ON DUPLICATE KEY UPDATE d = _utf8mb4 X'5c27'",
    );
  });

  it('refuses values that mysql2 would expand with its own quoting', () => {
    for (const value of [{ a: 'x' }, new Set(['x']), new Date(0), undefined, true]) {
      expect(() => bindable([value])).toThrow(/no safe literal/);
    }
  });

  it('counts at least the length of the bound literal for any text', () => {
    for (const text of ['', 'ascii', 'é', '日本', '🔑', '\u0800'.repeat(512)]) {
      const bound = (bindable([text])[0] as { toSqlString(): string }).toSqlString();
      expect(boundLength(text)).toBeGreaterThanOrEqual(bound.length);
    }
    expect(boundLength(new Uint8Array(16))).toBe("X'00000000000000000000000000000000'".length);
  });
});
