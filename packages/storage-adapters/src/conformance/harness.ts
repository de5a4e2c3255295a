/**
 * What the conformance suite needs from an adapter's test file, and the per-test fixture it
 * builds from it.
 */
import { type DekStore, type NewDekRecord, randomBytes, toHex } from '@rekey/crypto-core';
import { afterEach, beforeEach } from 'vitest';

/** One isolated store, built by an adapter's factory for one test. */
export interface DekStoreHarness {
  /** The store under test, on its own table. The suite calls `migrate()` itself. */
  readonly store: DekStore;
  /**
   * Inserts many DEKs fast (one statement or transaction per chunk), for the 100,000-row scan.
   * Without it the suite inserts one DEK at a time.
   */
  bulkInsert?(records: readonly NewDekRecord[]): Promise<void>;
  /**
   * Closes the store's connection the way an outage would, so later calls must fail with
   * `StoreUnavailableError`. Without it the closed-connection test is skipped.
   */
  disconnect?(): Promise<void>;
  /** Drops the table and releases what the factory opened. */
  dispose(): Promise<void>;
}

/** Options the suite passes to a factory. */
export interface DekStoreFactoryOptions {
  /** A table name unique to this test, `rekey_deks_<random hex>`. */
  readonly table: string;
}

/** Builds an isolated store for one test. */
export type DekStoreFactory = (options: DekStoreFactoryOptions) => Promise<DekStoreHarness>;

/** Tuning of {@link describeDekStore}. */
export interface DescribeDekStoreOptions {
  /** Rows of the big keyset scan; 100,000 by default. */
  readonly scanRows?: number;
  /** Timeout of the big tests, in milliseconds; 300,000 by default. */
  readonly slowTimeout?: number;
  /** The store has no connection to lose (in memory): skips the closed-connection test. */
  readonly connectionless?: boolean;
}

/** A fresh `rekey_deks_<random hex>` table name. */
export function uniqueTableName(): string {
  return `rekey_deks_${toHex(randomBytes(6))}`;
}

/** The current test's harness, rebuilt before each test and disposed after it. */
export interface HarnessContext {
  readonly harness: DekStoreHarness;
  readonly store: DekStore;
  /** Another isolated store (own table), disposed with the test. */
  another(): Promise<DekStoreHarness>;
}

/** Registers the hooks that give every test of the current `describe` its own store. */
export function useHarness(factory: DekStoreFactory): HarnessContext {
  let current: DekStoreHarness | undefined;
  const extra: DekStoreHarness[] = [];

  beforeEach(async () => {
    current = await factory({ table: uniqueTableName() });
    await current.store.migrate();
  });
  afterEach(async () => {
    const all = [...extra.splice(0), ...(current === undefined ? [] : [current])];
    current = undefined;
    for (const h of all) await h.dispose();
  });

  return {
    get harness(): DekStoreHarness {
      if (current === undefined) throw new Error('no harness outside a test');
      return current;
    },
    get store(): DekStore {
      return this.harness.store;
    },
    async another(): Promise<DekStoreHarness> {
      const h = await factory({ table: uniqueTableName() });
      extra.push(h);
      await h.store.migrate();
      return h;
    },
  };
}
