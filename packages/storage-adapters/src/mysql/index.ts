/**
 * @module
 * The MySQL/MariaDB `DekStore` over a mysql2 promise pool, for Node and Deno. The driver is a
 * peer dependency of this subpath only.
 */
export { MysqlDekStore, type MysqlDekStoreOptions } from './mysql-dek-store.ts';
