/**
 * @module
 * In-memory implementations of the rekey ports, FOR TESTS AND EXAMPLES ONLY: KEK material and
 * wrapped DEKs live in the process and are lost when it exits, and nothing here is hardened for
 * production. Import from `@rekey/crypto-core/testing`.
 */
export { MemoryDekStore, type MemoryDekStoreOptions } from './testing/memory-dek-store.ts';
export {
  MemoryKekProvider,
  type MemoryKekProviderOptions,
} from './testing/memory-kek-provider.ts';
