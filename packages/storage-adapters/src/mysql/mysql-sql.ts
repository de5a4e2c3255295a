/**
 * The SQL text of a MySQL/MariaDB DEK table's statements, built once per table. Parameters are
 * `?` placeholders that mysql2 fills in client-side (`send` in mysql-session.ts): a nested array
 * becomes a `VALUES` list, a `Uint8Array` an `X'..'` literal, a string a `_utf8mb4 X'..'`
 * literal (mysql-values.ts). The text itself holds no value that a `sql_mode` reads differently.
 */
import { quote } from './mysql-schema.ts';
import type { SqlLiteral } from './mysql-values.ts';

/** Reads a row with text as strings and times as epoch milliseconds (see mysql-schema.ts). */
const COLUMNS = `id, CONVERT(scope USING utf8mb4) AS scope,
  CONVERT(kek_name USING utf8mb4) AS kek_name, CONVERT(kek_ref USING utf8mb4) AS kek_ref,
  wrapped, revision,
  TIMESTAMPDIFF(MICROSECOND, '1970-01-01', created_at) DIV 1000 AS created_ms,
  TIMESTAMPDIFF(MICROSECOND, '1970-01-01', rotated_at) DIV 1000 AS rotated_ms`;

/** A raw `UTC_TIMESTAMP(6)` inside mysql2's value lists. */
export const UTC_NOW: SqlLiteral = { toSqlString: () => 'UTC_TIMESTAMP(6)' };

/** Every statement of one table. */
export interface MysqlStatements {
  readonly insert: string;
  readonly get: string;
  readonly getMany: string;
  readonly findByScope: string;
  readonly findByScopeAndName: string;
  readonly delete: string;
  readonly deleteScope: string;
  readonly lockForSwap: string;
  readonly swap: string;
  readonly count: string;
  readonly countByName: string;
  scan(refs: number, after: boolean, until: boolean): string;
  /** The same scan selecting `id` only (16 bytes a row), by the same shape. */
  scanIds(refs: number, after: boolean, until: boolean): string;
}

/** The statements of `table`, quoted once. */
export function mysqlStatements(table: string): MysqlStatements {
  const t = quote(table);
  return {
    insert: `INSERT INTO ${t} (id, scope, kek_name, kek_ref, wrapped, created_at) VALUES ?`,
    get: `SELECT ${COLUMNS} FROM ${t} WHERE id = ?`,
    getMany: `SELECT ${COLUMNS} FROM ${t} WHERE id IN (?)`,
    findByScope: `SELECT ${COLUMNS} FROM ${t} WHERE scope = ? ORDER BY created_at, id`,
    findByScopeAndName: `SELECT ${COLUMNS} FROM ${t}
      WHERE scope = ? AND kek_name = ? ORDER BY created_at, id`,
    delete: `DELETE FROM ${t} WHERE id = ?`,
    deleteScope: `DELETE FROM ${t} WHERE scope = ?`,
    // Step 1 of a swap batch, inside its transaction: lock the rows and read what they hold now.
    // The primary-key ranges of an IN list are visited in ascending order, so two batches lock
    // shared rows in the same order and wait for each other instead of deadlocking.
    lockForSwap: `SELECT id, revision, CONVERT(kek_ref USING utf8mb4) AS kek_ref
      FROM ${t} WHERE id IN (?) ORDER BY id FOR UPDATE`,
    // Step 2: ONE statement writes every row that matched. The rows are locked and known to
    // exist, so each VALUES row hits its duplicate key and only the UPDATE part runs (the
    // placeholder scope/name/created_at are never stored). PERF-NOTES: this form stays flat at
    // 5,000 rows where `UPDATE ... SET x = CASE id ...` degrades.
    // NOTE: VALUES() in ON DUPLICATE KEY UPDATE is deprecated on MySQL 8.0.20+ (a warning) in
    // favour of a row alias that MariaDB does not accept; it works on both.
    swap: `INSERT INTO ${t} (id, scope, kek_name, kek_ref, wrapped, created_at) VALUES ?
      ON DUPLICATE KEY UPDATE kek_ref = VALUES(kek_ref), wrapped = VALUES(wrapped),
        revision = revision + 1, rotated_at = UTC_TIMESTAMP(6)`,
    count: `SELECT CONVERT(kek_name USING utf8mb4) AS kek_name,
      CONVERT(kek_ref USING utf8mb4) AS kek_ref, COUNT(*) AS count
      FROM ${t} GROUP BY ${t}.kek_name, ${t}.kek_ref ORDER BY ${t}.kek_name, ${t}.kek_ref`,
    countByName: `SELECT CONVERT(kek_name USING utf8mb4) AS kek_name,
      CONVERT(kek_ref USING utf8mb4) AS kek_ref, COUNT(*) AS count
      FROM ${t} WHERE kek_name = ? GROUP BY ${t}.kek_ref ORDER BY ${t}.kek_ref`,
    scan: (refs, after, until) => scanText(table, COLUMNS, refs, after, until),
    scanIds: (refs, after, until) => scanText(table, 'id', refs, after, until),
  };
}

/**
 * Keyset pagination on the `(kek_name, kek_ref, id)` index: `id > after ORDER BY id LIMIT n`
 * resumes where the last page ended at constant cost (never OFFSET). Several refs become one
 * ordered, limited branch each, merged by UNION ALL: `kek_ref IN (...)` would read and sort every
 * remaining row of every ref to find the first n. MariaDB has no LATERAL, hence the branches.
 * Selecting `id` alone is answered from the index (InnoDB secondary indexes hold the primary
 * key), without reading the clustered rows.
 *
 * Parameters per branch: kek_name, kek_ref, [after], [until], limit; then the outer limit.
 */
function scanText(
  table: string,
  columns: string,
  refs: number,
  after: boolean,
  until: boolean,
): string {
  const bounds = `${after ? ' AND id > ?' : ''}${until ? ' AND id <= ?' : ''}`;
  // FORCE INDEX: left alone, the optimizer may walk the primary key in id order and filter by
  // ref (it did for UNION branches in testing), which reads every later row of other refs.
  const branch = `SELECT ${columns} FROM ${quote(table)} FORCE INDEX (${quote(`${table}_ref_idx`)})
    WHERE kek_name = ? AND kek_ref = ?${bounds} ORDER BY id LIMIT ?`;
  if (refs === 1) return branch;
  return `${Array.from({ length: refs }, () => `(${branch})`).join(' UNION ALL ')}
    ORDER BY id LIMIT ?`;
}
