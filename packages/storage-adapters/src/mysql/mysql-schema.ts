/**
 * The MySQL/MariaDB schema of a DEK table, as numbered migrations recorded in `<table>_schema`
 * (see the PostgreSQL twin). Works on MariaDB 10.11 and MySQL 8.
 *
 * Column choices:
 * - `id BINARY(16)`: the 16 id bytes; binary comparison makes `ORDER BY id` byte order, which is
 *   the canonical string order keyset scans rely on.
 * - `scope`, `kek_name`, `kek_ref` are `VARBINARY` holding UTF-8: binary strings compare byte
 *   for byte, where the usual collations ignore case (`utf8mb4_general_ci`) or trailing spaces
 *   (PAD SPACE), and a compare-and-swap on a ref must not match a ref that merely looks alike.
 *   Byte limits are 4 bytes per character of the validated lengths (255, 128, 512).
 * - Times are `DATETIME(6)` in UTC, written with `UTC_TIMESTAMP(6)` and read as epoch
 *   milliseconds, so neither the session nor the driver time zone can shift them.
 */

/** One schema step; MySQL commits each DDL statement on its own. */
export interface MysqlMigration {
  readonly version: number;
  readonly statements: (table: string) => readonly string[];
}

/** Quotes an identifier (names are validated to `[a-z0-9_]`). */
export function quote(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** Every schema step, oldest first. */
export const MYSQL_MIGRATIONS: readonly MysqlMigration[] = [
  {
    version: 1,
    statements: (table) => [
      `CREATE TABLE IF NOT EXISTS ${quote(table)} (
        id BINARY(16) NOT NULL,
        scope VARBINARY(1020) NOT NULL,
        kek_name VARBINARY(512) NOT NULL,
        kek_ref VARBINARY(2048) NOT NULL,
        wrapped VARBINARY(4096) NOT NULL,
        revision INT UNSIGNED NOT NULL DEFAULT 1,
        created_at DATETIME(6) NOT NULL,
        rotated_at DATETIME(6) NULL,
        PRIMARY KEY (id),
        KEY ${quote(`${table}_ref_idx`)} (kek_name, kek_ref, id),
        KEY ${quote(`${table}_scope_idx`)} (scope, created_at)
      ) ENGINE=InnoDB`,
    ],
  },
];

/** The version table, created before any numbered step. */
export function mysqlVersionTable(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quote(`${table}_schema`)} (
    version INT NOT NULL PRIMARY KEY,
    applied_at DATETIME(6) NOT NULL
  ) ENGINE=InnoDB`;
}
