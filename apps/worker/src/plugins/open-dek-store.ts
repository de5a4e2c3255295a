/**
 * DekStore plugins picked by name: the built-in adapters open their driver pool from the
 * configured connection; any other name is a module specifier whose `createDekStore` export
 * builds the store.
 */
import type { DekStore } from '@rekey/crypto-core';
import { ConfigError } from '@rekey/crypto-core';

import { type DatabaseConfig, revealed } from '../config/worker-config.ts';

/** A store and how to release what was opened for it. */
export interface OpenedDekStore {
  readonly store: DekStore;
  close(): Promise<void>;
}

/** The export a third-party DekStore plugin module provides. */
export interface DekStorePlugin {
  createDekStore(options: {
    readonly name: string;
    readonly connection: string | undefined;
    readonly table: string;
    readonly settings: Readonly<Record<string, unknown>>;
  }): DekStore | Promise<DekStore>;
}

/**
 * Opens the DEK store of one configured database and migrates it.
 *
 * @throws {ConfigError} when a plugin module cannot be loaded or has no `createDekStore`.
 */
export async function openDekStore(db: DatabaseConfig, migrate = true): Promise<OpenedDekStore> {
  const opened = await open(db);
  if (migrate) await opened.store.migrate();
  return opened;
}

async function open(db: DatabaseConfig): Promise<OpenedDekStore> {
  const connection = db.connection === undefined ? undefined : revealed(db.connection);
  switch (db.adapter) {
    case 'postgres': {
      const { default: postgres } = await import('postgres');
      const { PostgresDekStore } = await import('@rekey/storage-adapters/postgres');
      const sql = postgres(connection as string, { max: db.concurrency + 2, onnotice: () => {} });
      const store = new PostgresDekStore(sql, { table: db.table });
      return { store, close: () => sql.end({ timeout: 5 }) };
    }
    case 'mysql': {
      const mysql = await import('mysql2/promise');
      const { MysqlDekStore } = await import('@rekey/storage-adapters/mysql');
      const pool = mysql.createPool({
        uri: connection as string,
        connectionLimit: db.concurrency + 2,
      });
      const store = new MysqlDekStore(pool, { table: db.table });
      return { store, close: () => pool.end() };
    }
    case 'sqlite': {
      const { openSqliteDekStore } = await import('./open-sqlite-dek-store.ts');
      return openSqliteDekStore(connection as string, db.table);
    }
    case 'memory': {
      const { MemoryDekStore } = await import('@rekey/storage-adapters/memory');
      return { store: new MemoryDekStore(), close: async () => {} };
    }
    default: {
      const plugin = await importPlugin<DekStorePlugin>(db.adapter, 'createDekStore');
      const store = await plugin.createDekStore({
        name: db.name,
        connection,
        table: db.table,
        settings: db.settings,
      });
      return { store, close: async () => store.close?.() };
    }
  }
}

/**
 * Imports a plugin module and checks that it exports `member` as a function.
 *
 * @throws {ConfigError} naming the module, never its settings.
 */
export async function importPlugin<T>(specifier: string, member: string): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`plugin module ${specifier} cannot be loaded`, { cause: error });
  }
  if (typeof mod[member] !== 'function') {
    throw new ConfigError(`plugin module ${specifier} does not export ${member}()`);
  }
  return mod as T;
}
