/**
 * The SQLite schema of a DEK table, as numbered migrations recorded in `<table>_schema` (see the
 * PostgreSQL twin). `STRICT` tables (SQLite 3.37+) refuse values of the wrong type.
 *
 * `id` is the 16-byte BLOB: SQLite compares BLOBs with memcmp, so id order is byte order. The
 * table is `WITHOUT ROWID`, clustered on id: a rotation walks ids in order, so one batch of 1,000
 * rows touches a few dozen leaf pages instead of 1,000 scattered rowid pages (measured: without
 * it, every commit wrote megabytes of WAL and the rewrite slowed as the table grew).
 *
 * Times are epoch microseconds (SQLite has no time type); the store keeps them strictly
 * increasing per connection, so "oldest first" is insertion order even within one millisecond.
 */

/** One schema step, run inside the migration transaction. */
export interface SqliteMigration {
  readonly version: number;
  readonly statements: (table: string) => readonly string[];
}

/** Quotes an identifier (names are validated to `[a-z0-9_]`). */
export function quoteSqlite(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Every schema step, oldest first. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    statements: (table) => {
      const t = quoteSqlite(table);
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (
          id BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
          scope TEXT NOT NULL,
          kek_name TEXT NOT NULL,
          kek_ref TEXT NOT NULL,
          wrapped BLOB NOT NULL,
          revision INTEGER NOT NULL DEFAULT 1,
          created_at INTEGER NOT NULL,
          rotated_at INTEGER
        ) STRICT, WITHOUT ROWID`,
        `CREATE INDEX IF NOT EXISTS ${quoteSqlite(`${table}_ref_idx`)}
          ON ${t} (kek_name, kek_ref, id)`,
        `CREATE INDEX IF NOT EXISTS ${quoteSqlite(`${table}_scope_idx`)}
          ON ${t} (scope, created_at)`,
      ];
    },
  },
];

/** The version table, created before any numbered step. */
export function sqliteVersionTable(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteSqlite(`${table}_schema`)} (
    version INTEGER NOT NULL PRIMARY KEY,
    applied_at INTEGER NOT NULL
  ) STRICT`;
}
