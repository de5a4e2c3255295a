import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { describeDekStore } from '../conformance/index.ts';
import { SqliteDekStore } from './index.ts';

declare const Deno: unknown;

// better-sqlite3 is a native Node addon: this file runs on Node only (the node:sqlite file
// covers Deno). The driver is imported lazily so Deno never loads it.
const onDeno = typeof Deno !== 'undefined';

async function open(path: string) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  return db;
}

describe.skipIf(onDeno)('SQLite through better-sqlite3', () => {
  describeDekStore('sqlite (better-sqlite3)', async ({ table }) => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-sqlite-'));
    const db = await open(join(dir, 'deks.db'));
    const store = new SqliteDekStore(db, { table });
    return {
      store,
      bulkInsert: (records) => store.insertMany(records),
      disconnect: async () => void db.close(),
      dispose: async () => {
        if (db.open) db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it('creates a STRICT table with both indexes and schema version 1, shared by a second connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-sqlite-'));
    const [a, b] = [await open(join(dir, 'x.db')), await open(join(dir, 'x.db'))];
    try {
      await Promise.all([new SqliteDekStore(a).migrate(), new SqliteDekStore(b).migrate()]);

      const sql = String(
        a.prepare("SELECT sql FROM sqlite_master WHERE name = 'rekey_deks'").pluck().get(),
      );
      const indexes = a
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rekey_deks'")
        .pluck()
        .all();
      const versions = a.prepare('SELECT version FROM rekey_deks_schema').pluck().all();

      expect(sql).toMatch(/STRICT, WITHOUT ROWID$/);
      expect(indexes.join('\n')).toContain('(kek_name, kek_ref, id)');
      expect(versions).toEqual([1]);
    } finally {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
