/**
 * @module
 * The SQLite `DekStore`: better-sqlite3 12 on Node (a native addon, Node only), or the runtime's
 * built-in `node:sqlite` `DatabaseSync` on Deno 2 and Node 22.5+. Neither driver is imported
 * here: the caller opens the database and passes it in.
 */
export type { SqliteDatabase, SqliteStatement, SqliteValue } from './sqlite-database.ts';
export { SqliteDekStore, type SqliteDekStoreOptions } from './sqlite-dek-store.ts';
