/**
 * @module
 * The `DekStore` conformance suite: one set of behaviour tests that every adapter (and any
 * third-party store) runs against a real database. Import from `@rekey/storage-adapters/conformance`
 * in a vitest (or Deno, through the vitest shim) test file.
 */
import { describe } from 'vitest';

import {
  type DekStoreFactory,
  type DekStoreFactoryOptions,
  type DekStoreHarness,
  type DescribeDekStoreOptions,
  uniqueTableName,
  useHarness,
} from './harness.ts';
import { inputTests } from './inputs.ts';
import { recordTests } from './records.ts';
import { scanTests } from './scan.ts';
import { scanIdsTests } from './scan-ids.ts';
import { swapTests } from './swap.ts';

export type { DekStoreFactory, DekStoreFactoryOptions, DekStoreHarness, DescribeDekStoreOptions };
export { uniqueTableName };

/**
 * Registers the conformance suite for one store. Every test gets a fresh store from `factory`
 * on its own `rekey_deks_<random hex>` table, migrated first and disposed after.
 *
 * @example
 * ```ts
 * describeDekStore('postgres', async ({ table }) => {
 *   const sql = postgres({ host: '127.0.0.1', user: 'postgres', database: 'test' });
 *   const store = new PostgresDekStore(sql, { table });
 *   return {
 *     store,
 *     bulkInsert: (records) => store.insertMany(records),
 *     disconnect: () => sql.end(),
 *     dispose: async () => { await store.drop(); await sql.end(); },
 *   };
 * });
 * ```
 */
export function describeDekStore(
  name: string,
  factory: DekStoreFactory,
  options: DescribeDekStoreOptions = {},
): void {
  const scanRows = options.scanRows ?? 100_000;
  const slowTimeout = options.slowTimeout ?? 300_000;
  const connectionless = options.connectionless ?? false;

  describe(`DekStore conformance: ${name}`, () => {
    const ctx = useHarness(factory);
    describe('records', () => recordTests(ctx));
    describe('bad input and lost connections', () => inputTests(ctx, connectionless));
    describe('keyset scans', () => scanTests(ctx, scanRows, slowTimeout));
    describe('id-only keyset scans', () => scanIdsTests(ctx, connectionless));
    describe('compare-and-swap', () => swapTests(ctx));
  });
}
