import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';

import { describeDekStore } from '../conformance/index.ts';
import { type SqliteDatabase, SqliteDekStore } from './index.ts';

interface DatabaseSync extends SqliteDatabase {
  close(): void;
}
type NodeSqlite = { DatabaseSync: new (path: string) => DatabaseSync };

// The runtime's built-in SQLite: Deno 2 and Node 22.5+ have `node:sqlite`, Node 20 does not
// (then this file is skipped).
const sqlite = (await import('node:sqlite' as string).catch(() => undefined)) as
  | NodeSqlite
  | undefined;

describe.skipIf(sqlite === undefined)('SQLite through the built-in node:sqlite', () => {
  describeDekStore('sqlite (node:sqlite)', async ({ table }) => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-sqlite-'));
    const db = new (sqlite as NodeSqlite).DatabaseSync(join(dir, 'deks.db'));
    db.exec('PRAGMA journal_mode = WAL');
    const store = new SqliteDekStore(db, { table });
    let open = true;
    const close = () => {
      if (open) db.close();
      open = false;
    };
    return {
      store,
      bulkInsert: (records) => store.insertMany(records),
      disconnect: async () => close(),
      dispose: async () => {
        close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
