/**
 * @module
 * The in-memory `DekStore`, for tests and examples only: rows die with the process. It is
 * `MemoryDekStore` from `@rekey/crypto-core/testing`, offered here so every store is picked the
 * same way (`@rekey/storage-adapters/<name>`).
 */
export { MemoryDekStore, type MemoryDekStoreOptions } from '@rekey/crypto-core/testing';
