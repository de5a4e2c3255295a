/** The control-store driver over a SQLite file (better-sqlite3, Node only). */
import Database from 'better-sqlite3';

import type { SqlDriver, SqlExecutor, SqlResult } from './sql-driver.ts';

/**
 * A driver over a SQLite file in WAL mode. Several worker processes may share the file: writes
 * wait up to 10 s for the lock.
 */
export function sqliteDriver(path: string): SqlDriver {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  const cache = new Map<string, Database.Statement>();

  const run = (text: string, params: readonly unknown[] = []): SqlResult => {
    let stmt = cache.get(text);
    if (stmt === undefined) {
      stmt = db.prepare(text);
      cache.set(text, stmt);
    }
    const args = params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
    if (stmt.reader) return { rows: stmt.all(...args) as Record<string, unknown>[], changes: 0 };
    return { rows: [], changes: stmt.run(...args).changes };
  };
  const exec: SqlExecutor = { query: async (text, params) => run(text, params) };

  // One connection: async callers take turns, so a transaction never sees another's statements.
  let turn: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = turn.then(work, work);
    turn = next.catch(() => {});
    return next;
  };

  return {
    dialect: 'sqlite',
    query: (text, params) => serialized(async () => run(text, params)),
    transaction(fn) {
      return serialized(async () => {
        // BEGIN IMMEDIATE takes the write lock up front: two processes never deadlock upgrading.
        run('BEGIN IMMEDIATE');
        try {
          const result = await fn(exec);
          run('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) run('ROLLBACK');
          throw error;
        }
      });
    },
    isUniqueViolation: (error) =>
      String((error as { code?: string }).code ?? '').startsWith('SQLITE_CONSTRAINT'),
    async close() {
      db.close();
    },
  };
}
