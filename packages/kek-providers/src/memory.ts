/**
 * @module
 * `@rekey/kek-providers/memory`: the in-memory KEK provider of `@rekey/crypto-core/testing`,
 * here so that every provider can be picked from this package by name. For tests and examples:
 * its KEKs die with the process.
 */
export { MemoryKekProvider, type MemoryKekProviderOptions } from '@rekey/crypto-core/testing';
