/**
 * @module
 * The PostgreSQL `DekStore` over postgres.js (porsager), for Node and Deno. The driver is a peer
 * dependency of this subpath only.
 */
export {
  type PostgresClient,
  PostgresDekStore,
  type PostgresDekStoreOptions,
} from './postgres-dek-store.ts';
