/** Opening the DEK stores and KEK providers of a config for the CLI commands that read them. */
import type { DekStore, KekProvider } from '@rekey/crypto-core';

import type { WorkerConfig } from '../config/worker-config.ts';
import { openDekStore } from '../plugins/open-dek-store.ts';
import { openKekProvider } from '../plugins/open-kek-provider.ts';

/** Stores by database name and providers by KEK name. */
export interface OpenedStores {
  readonly stores: ReadonlyMap<string, DekStore>;
  readonly providers: ReadonlyMap<string, KekProvider>;
  close(): Promise<void>;
}

/** Opens (and migrates) every configured DEK store and KEK provider. */
export async function openStoresAndProviders(config: WorkerConfig): Promise<OpenedStores> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const stores = new Map<string, DekStore>();
    for (const db of config.databases) {
      const opened = await openDekStore(db);
      closers.push(() => opened.close());
      stores.set(db.name, opened.store);
    }
    const providers = new Map<string, KekProvider>();
    for (const kek of config.keks) {
      const provider = await openKekProvider(kek, config.baseDir);
      closers.push(async () => provider.close?.());
      providers.set(kek.name, provider);
    }
    return { stores, providers, close };
  } catch (error) {
    await close();
    throw error;
  }
}
