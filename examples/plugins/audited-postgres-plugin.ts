/**
 * The audited store as a plugin module the rotation worker can load: name this file (or its
 * package) as `databases[].adapter` in the worker's configuration, and the worker calls
 * `createDekStore` with the database's connection string and table. Audit events go to stderr
 * as JSON lines, next to the worker's own log.
 */
import { ConfigError, type DekStore } from '@rekey/crypto-core';
import { PostgresDekStore } from '@rekey/storage-adapters/postgres';
import postgres from 'postgres';

import { AuditedDekStore, type DekAuditEvent } from './audited-dek-store.ts';

/** What the worker passes to a DEK store plugin. */
export interface DekStorePluginOptions {
  readonly name: string;
  readonly connection: string | undefined;
  readonly table: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

/**
 * Opens a PostgreSQL pool of its own and returns the audited store over it; `close()` ends it.
 *
 * @throws {ConfigError} when the database has no connection string.
 */
export function createDekStore(
  options: DekStorePluginOptions,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): DekStore {
  if (options.connection === undefined) {
    throw new ConfigError(`database ${options.name}: the audited store needs a connection`);
  }
  const sql = postgres(options.connection, { max: 4, onnotice: () => {} });
  const audit = (event: DekAuditEvent) =>
    write(JSON.stringify({ msg: 'dek audit', database: options.name, ...event }));
  return new AuditedDekStore(new PostgresDekStore(sql, { table: options.table }), audit, () =>
    sql.end(),
  );
}
