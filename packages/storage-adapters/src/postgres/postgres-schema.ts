/**
 * The PostgreSQL schema of a DEK table, as numbered migrations. `migrate()` applies the ones a
 * table has not seen yet, recorded in `<table>_schema`, so later releases move a table forward
 * instead of recreating it. A migration is never edited once released: add the next one.
 */

/** One schema step: statements run in one transaction with the version row. */
export interface Migration {
  readonly version: number;
  readonly statements: (table: string) => readonly string[];
}

/** Quotes an identifier (names are validated to `[a-z0-9_]`, so this is belt and braces). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Every schema step, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (table) => [
      `CREATE TABLE IF NOT EXISTS ${ident(table)} (
        id uuid PRIMARY KEY,
        scope text NOT NULL,
        kek_name text NOT NULL,
        kek_ref text NOT NULL,
        wrapped bytea NOT NULL,
        revision integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz
      )`,
      // The rotation scan: equality on name and ref, then a range on id, already in id order.
      `CREATE INDEX IF NOT EXISTS ${ident(`${table}_ref_idx`)}
        ON ${ident(table)} (kek_name, kek_ref, id)`,
      `CREATE INDEX IF NOT EXISTS ${ident(`${table}_scope_idx`)}
        ON ${ident(table)} (scope, created_at)`,
    ],
  },
];

/** Statements that create the version table itself (outside the numbered steps). */
export function versionTable(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(`${table}_schema`)} (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;
}
