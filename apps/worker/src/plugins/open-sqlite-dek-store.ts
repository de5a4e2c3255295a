/** The built-in SQLite DekStore over a better-sqlite3 file (Node only). */
import Database from 'better-sqlite3';

import type { OpenedDekStore } from './open-dek-store.ts';

/** Opens a SQLite DEK file in WAL mode with a busy timeout, for several worker processes. */
export async function openSqliteDekStore(path: string, table: string): Promise<OpenedDekStore> {
  const { SqliteDekStore } = await import('@rekey/storage-adapters/sqlite');
  type SqliteDatabase = ConstructorParameters<typeof SqliteDekStore>[0];
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  const store = new SqliteDekStore(db as unknown as SqliteDatabase, { table });
  return {
    store,
    close: async () => {
      db.close();
    },
  };
}
